/**
 * The aiaudit command. Exit codes: 0 done, 1 refused or failed (the message says why), 2 usage
 * error. Secrets come from files or standard input, never from the command line, where they
 * would stay in shell history and process listings.
 */
import { connectCopilot } from "./commands/connect-copilot.ts";
import { disconnect } from "./commands/disconnect.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { pseudonym } from "./commands/pseudonym.ts";
import { UsageError, type Io } from "./io.ts";

export type { Io } from "./io.ts";

const USAGE = `usage:
  aiaudit connect copilot --tenant T (--org ORG | --enterprise ENT) [--base-url URL] [--token-file F] [--keep-usage-content]
      the token is read from --token-file or standard input; needs SECRETS_KEY, KAFKA_BROKERS
  aiaudit disconnect --tenant T --connection ID
  aiaudit pseudonym [--key-file F] LOGIN_OR_EMAIL...
      the tenant key from --key-file or PSEUDONYM_KEY
  aiaudit migrate
      applies schemas/clickhouse migrations (CLICKHOUSE_URL or the embedded engine)`;

export async function runCli(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "connect":
        if (rest[0] !== "copilot") throw new UsageError(`connect what? (copilot)`);
        return await connectCopilot(rest.slice(1), io);
      case "disconnect":
        return await disconnect(rest, io);
      case "pseudonym":
        return await pseudonym(rest, io);
      case "migrate":
        return await migrateCommand(rest, io);
      case undefined:
      case "help":
      case "--help":
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      io.err(`aiaudit: ${err.message}\n${USAGE}`);
      return 2;
    }
    io.err(`aiaudit: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
