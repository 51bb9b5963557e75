/** aiaudit disconnect: a tombstone on the connections topic; ingest stops polling the connection. */
import { publishConnection } from "../connections.ts";
import { parseOptions, tenantOption, UsageError, type Command, type Io } from "../io.ts";

export const disconnect: Command = {
  path: ["disconnect"],
  summary: "remove a connection: ingest stops polling it",
  usage: `usage: aiaudit disconnect --tenant T --connection ID
  --tenant T          the tenant (customer) id
  --connection ID     the connection, e.g. github-org-acme or openai-org-abc123 (aiaudit status lists them)
needs KAFKA_BROKERS`,
  run,
};

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, { tenant: { type: "string" }, connection: { type: "string" } });
  const tenant = tenantOption(values.tenant);
  if (!values.connection)
    throw new UsageError("--connection is required: e.g. github-org-acme or openai-org-abc123");
  await publishConnection(io.env, tenant, values.connection, null);
  io.out(`disconnected ${tenant}/${values.connection}`);
  return 0;
}
