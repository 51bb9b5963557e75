/**
 * The aiaudit command. Exit codes: 0 done, 1 refused or failed (the message says why), 2 usage
 * error. Secrets come from files or standard input, never from the command line, where they
 * would stay in shell history and process listings. Every command answers `--help` with its own
 * usage; node:util parseArgs is enough for a handful of commands, so there is no CLI framework.
 */
import { billing } from "./commands/billing.ts";
import { connectCopilot } from "./commands/connect-copilot.ts";
import { connectOpenai } from "./commands/connect-openai.ts";
import { destinationsAdd, destinationsList, destinationsRemove } from "./commands/destinations.ts";
import { disconnect } from "./commands/disconnect.ts";
import { keysGenerate, keysShow } from "./commands/keys.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { packVerify } from "./commands/pack-verify.ts";
import { pseudonym } from "./commands/pseudonym.ts";
import { status } from "./commands/status.ts";
import { tenantsCreate, tenantsList } from "./commands/tenants.ts";
import { tokensCreate, tokensList, tokensRevoke } from "./commands/tokens.ts";
import { UsageError, type Command, type Io } from "./io.ts";

export type { Io } from "./io.ts";

const COMMANDS: Command[] = [
  connectCopilot,
  connectOpenai,
  disconnect,
  status,
  billing,
  tenantsCreate,
  tenantsList,
  tokensCreate,
  tokensList,
  tokensRevoke,
  destinationsAdd,
  destinationsList,
  destinationsRemove,
  pseudonym,
  migrateCommand,
  keysGenerate,
  keysShow,
  packVerify,
];

const overview = (commands: Command[]) =>
  "usage:\n" +
  commands.map((c) => `  aiaudit ${c.path.join(" ")}\n      ${c.summary}`).join("\n") +
  "\n\n`aiaudit COMMAND --help` shows a command's options.";

const isHelp = (arg: string) => arg === "--help" || arg === "-h";

export async function runCli(argv: string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(overview(COMMANDS));
    return 2;
  }
  if (isHelp(first) || first === "help") {
    const topic = rest.join(" ");
    const command = COMMANDS.find((c) => c.path.join(" ") === topic);
    io.out(command ? command.usage : overview(COMMANDS));
    return 0;
  }
  const command = COMMANDS.find((c) => c.path.every((word, i) => argv[i] === word));
  if (!command) {
    // A group's name alone (`aiaudit connect`), or a word that names nothing.
    const group = COMMANDS.filter((c) => c.path.length > 1 && c.path[0] === first);
    if (group.length > 0) {
      const wanted = argv[1];
      if (wanted === undefined || isHelp(wanted)) {
        io[wanted === undefined ? "err" : "out"](overview(group));
        return wanted === undefined ? 2 : 0;
      }
      io.err(
        `aiaudit: ${first} what? ${wanted} is not one of: ${group.map((c) => c.path[1]).join(", ")}\n${overview(group)}`,
      );
      return 2;
    }
    io.err(`aiaudit: unknown command ${first}\n${overview(COMMANDS)}`);
    return 2;
  }
  const args = argv.slice(command.path.length);
  if (args.some(isHelp)) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`aiaudit ${command.path.join(" ")}: ${err.message}\n${command.usage}`);
      return 2;
    }
    io.err(`aiaudit ${command.path.join(" ")}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
