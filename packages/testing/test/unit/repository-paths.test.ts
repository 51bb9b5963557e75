/**
 * Issue 6, defect 11: no file reads or cites a path outside the repository. Tests once read the
 * vendor reference from a folder beside the clone and from the author's machine; a user's clone
 * has neither. The checker is tested on those very lines, then run over every file git knows.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import {
  escapesRoot,
  findOutsidePaths,
  IGNORE_MARKER,
  repositoryFiles,
  scanRepository,
} from "../../src/repository-paths.ts";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const THIS_FILE = "packages/testing/test/unit/repository-paths.test.ts";

/** Files that may name outside paths: the design texts, vendor copies, and this file's examples. */
function skipped(file: string): boolean {
  return (
    file === "docs/design.md" ||
    file === "docs/conventions.md" ||
    /^simulators\/[^/]+\/reference\//.test(file) ||
    file === THIS_FILE
  );
}

/** The folder beside a checkout that the old tests read. */
const SIBLING = ["sha", "red"].join("");

const found = (file: string, text: string) => findOutsidePaths(file, text).map((p) => p.found);

describe("findOutsidePaths", () => {
  it("catches the lines the old tests and docs had", () => {
    // The old lines, with the outside folder spelled by placeholders: this file must not name it
    // literally, or every scanner of the tree (this one's siblings included) reports it.
    const outside = (text: string) =>
      text
        .replaceAll("{up5}", `${"../".repeat(5)}${SIBLING}/`)
        .replaceAll("{up1}", `../${SIBLING}/`)
        .replaceAll("{work}", `/work/${SIBLING}/`);
    const examples: [string, string, string][] = [
      [
        "services/ingest-copilot/test/unit/seat.test.ts",
        '    new URL("{up5}reference/github/copilot-openapi-subset.json", import.meta.url),',
        "{up5}reference/github/copilot-openapi-subset.json",
      ],
      [
        "simulators/github/test/endpoints.test.ts",
        '  readFileSync("{work}reference/github/copilot-openapi-subset.json", "utf8"),',
        "{work}reference/github/copilot-openapi-subset.json",
      ],
      [
        "simulators/github/src/server.ts",
        " * A GitHub REST API simulator built from {up1}reference/github (DESIGN.md §8): the",
        "{up1}reference/github",
      ],
      [
        "docs/architecture.md",
        "The target design is `{up1}DESIGN.md`; this page says what exists and where.",
        "{up1}DESIGN.md",
      ],
      [
        "simulators/github/README.md",
        "`{work}reference/github` (README, `copilot-openapi-subset.json`):",
        "{work}reference/github",
      ],
    ];
    const old = examples.map(([file, line, path]) => [file, outside(line), outside(path)] as const);
    for (const [file, line, path] of old) {
      const [first] = findOutsidePaths(file, `first line\n${line}\n`);
      assert.ok(first, `${file}: ${line}`);
      assert.equal(first.line, 2);
      assert.equal(first.found, path);
    }
  });

  it("resolves new URL(…, import.meta.url), imports and join(__dirname, …) against the file's folder", () => {
    const test = "services/ingest-copilot/test/unit/x.test.ts";
    assert.deepEqual(
      found(test, 'new URL("../../../../simulators/github/reference/a.json", import.meta.url)'),
      [],
    );
    assert.deepEqual(found(test, 'new URL("../../../../../elsewhere/a.json", import.meta.url)'), [
      "../../../../../elsewhere/a.json",
    ]);
    assert.deepEqual(found(test, 'import { x } from "../../src/service.ts";'), []);
    assert.deepEqual(found(test, 'readFileSync("../../../../../../etc/passwd")'), [
      "../../../../../../etc/passwd",
    ]);
    const src = "packages/x/src/a.ts";
    assert.deepEqual(found(src, 'const dir = join(__dirname, "..", "..", "..", "schemas");'), []);
    assert.deepEqual(found(src, 'const dir = join(__dirname, "..", "..", "..", "..", "data");'), [
      "../../../../data",
    ]);
    assert.deepEqual(found(src, "resolve(import.meta.dirname, '../../../..')"), ["../../../.."]);
  });

  it("resolves shell and markdown paths: the script's folder, a root variable, a link", () => {
    const script = "deploy/local/kafka/kafka.sh";
    assert.deepEqual(found(script, 'REPO_ROOT="$(cd -- "$SCRIPT_DIR/../../.." && pwd)"'), []);
    assert.deepEqual(found(script, 'OUT="$(cd -- "$SCRIPT_DIR/../../../.." && pwd)"'), ["../../../.."]);
    assert.deepEqual(found("scripts/a.sh", 'cd "$(dirname "$0")/../.."'), ["../.."]);
    assert.deepEqual(found("scripts/a.sh", 'cat "$REPO_ROOT/../notes.txt"'), ["../notes.txt"]);
    assert.deepEqual(found("docs/a.md", "See [the design](../../DESIGN.md)."), ["../../DESIGN.md"]);
    assert.deepEqual(found("docs/a.md", "See [the design](../docs/design.md)."), []);
  });

  it("leaves alone what only looks like a path", () => {
    const lines = [
      "Copilot seats: `GET /orgs/{org}/copilot/billing`, `.../billing/seats`",
      'get("/orgs/acme/audit-log?phrase=created:2026-11-20T00:10:00Z..2026-11-20T00:19:00Z")',
      "const range = /^(.+)\\.\\.(.+)$/.exec(value);",
      "https://example.com/work/items and https://docs.github.com/rest",
      `new URL("../../../../../elsewhere/a.json", import.meta.url) // ${IGNORE_MARKER}`,
    ];
    assert.deepEqual(findOutsidePaths("simulators/github/src/a.ts", lines.join("\n")), []);
  });

  it("escapesRoot: from a folder relative to the root", () => {
    assert.equal(escapesRoot("a/b", "../.."), false);
    assert.equal(escapesRoot("a/b", "../../.."), true);
    assert.equal(escapesRoot("", "../x"), true);
    assert.equal(escapesRoot("a", "./x/../../y"), false);
    assert.equal(escapesRoot("a", "./x/../../../y"), true);
  });
});

describe("the repository", () => {
  it("has no file that reads or cites a path outside it", () => {
    const files = repositoryFiles(ROOT);
    assert.ok(
      files.includes(THIS_FILE) && files.includes("package.json"),
      "git lists the repository's files",
    );
    assert.ok(files.length > 100, `${files.length} files`);
    const problems = scanRepository(ROOT, skipped);
    assert.deepEqual(
      problems.map((p) => `${p.file}:${p.line}: ${p.found} (${p.reason})`),
      [],
      "copy what a test needs into the repository (simulators/<vendor>/reference/) and cite it there",
    );
  });
});
