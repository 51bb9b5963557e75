/** aiaudit disconnect: a tombstone on the connections topic; ingest stops polling the connection. */
import { parseArgs } from "node:util";
import { publishConnection } from "../connections.ts";
import { UsageError, type Io } from "../io.ts";

export async function disconnect(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: "string" }, connection: { type: "string" } },
    strict: true,
  });
  if (!values.tenant || !values.connection) throw new UsageError("--tenant and --connection are required");
  await publishConnection(io.env, values.tenant, values.connection, null);
  io.out(`disconnected ${values.tenant}/${values.connection}`);
  return 0;
}
