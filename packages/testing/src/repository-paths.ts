/**
 * A clone has nothing beside it (docs/conventions.md, "Do not copy"): no file may read or cite a
 * path outside the repository. This finds, in one file's text, the paths that leave the
 * repository root: a sibling `shared` folder, the author's `/work` tree, and relative paths
 * that climb above the root, each resolved against the folder it is relative to (the file's
 * own, or the root for a `$ROOT`-like variable).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { posix } from "node:path";

export interface PathProblem {
  /** The file, relative to the repository root, with `/`. */
  file: string;
  /** 1-based. */
  line: number;
  /** The path as written in the file. */
  found: string;
  reason: string;
}

/** A line carrying this is not checked (e.g. a test's example of a path that escapes). */
export const IGNORE_MARKER = "repository-paths: not a path";

const SIBLING = /(?:\.\.\/)+shared\b[^\s"'`)]*/g;
const AUTHOR_TREE = /(?<![\w.-])\/work\/[^\s"'`)]*/g;
/** A run of `..` segments starting a token: `"../x"`, `(../x)`, `` `../x` ``, ` ../x`. */
const CLIMB = /(?<=^|[\s"'`(=[,:])((?:\.\.(?:\/|(?=[\s"'`),\]]|$)))+[\w./@-]*)/g;
/** A folder-valued expression followed by a relative tail: `$SCRIPT_DIR/../..`, `__dirname + "/.."`. */
const FROM_FOLDER =
  /(\$\(dirname [^)]*\)|\$\{?(?:SCRIPT_DIR|script_dir|here|HERE|DIR|dir)\}?|__dirname|import\.meta\.dirname)\/((?:\.\.(?:\/|(?=[\s"'`)]|$)))+[\w./@-]*)/g;
const FROM_ROOT = /\$\{?(?:ROOT|REPO_ROOT|repo_root|root)\}?\/((?:\.\.(?:\/|(?=[\s"'`)]|$)))+[\w./@-]*)/g;
/** `join(__dirname, "..", "..", "x")` and `resolve(import.meta.dirname, "..")`. */
const JOINED =
  /\b(?:join|resolve)\(\s*(?:__dirname|import\.meta\.dirname)((?:\s*,\s*(?:"[^"]*"|'[^']*'))+)\s*\)/g;

/** True when `relative`, taken from `folder` (both relative to the root), ends up outside it. */
export function escapesRoot(folder: string, relative: string): boolean {
  const target = posix.normalize(posix.join(folder, relative));
  return target === ".." || target.startsWith("../");
}

/** The paths in `text` (the content of `file`, relative to the root) that leave the repository. */
export function findOutsidePaths(file: string, text: string): PathProblem[] {
  const folder = posix.dirname(file) === "." ? "" : posix.dirname(file);
  const problems: PathProblem[] = [];
  text.split("\n").forEach((content, i) => {
    if (content.includes(IGNORE_MARKER)) return;
    const add = (found: string, reason: string) => problems.push({ file, line: i + 1, found, reason });
    for (const m of content.matchAll(SIBLING)) add(m[0], "a folder beside the repository");
    for (const m of content.matchAll(AUTHOR_TREE)) add(m[0], "an absolute path on the author's machine");
    const relative: [string, string][] = [];
    for (const m of content.matchAll(CLIMB)) relative.push([folder, m[1] ?? ""]);
    for (const m of content.matchAll(FROM_FOLDER)) relative.push([folder, m[2] ?? ""]);
    for (const m of content.matchAll(FROM_ROOT)) relative.push(["", m[1] ?? ""]);
    for (const m of content.matchAll(JOINED)) {
      const parts = [...(m[1] ?? "").matchAll(/"([^"]*)"|'([^']*)'/g)].map((p) => p[1] ?? p[2] ?? "");
      relative.push([folder, posix.join(...parts)]);
    }
    for (const [from, path] of relative) {
      if (escapesRoot(from, path) && !problems.some((p) => p.line === i + 1 && p.found.includes(path))) {
        add(path, `climbs above the repository root from ${from || "the root"}`);
      }
    }
  });
  return problems;
}

/**
 * The repository's files as git sees them: tracked, plus new ones not ignored (so a file is
 * checked before it is committed); deleted ones are left out.
 */
export function repositoryFiles(root: string): string[] {
  const out = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  });
  return [...new Set(out.split("\0"))].filter((f) => f.length > 0 && existsSync(`${root}/${f}`)).sort();
}

/** Every problem in the repository's text files (binary files, with a NUL byte, are skipped). */
export function scanRepository(root: string, skip: (file: string) => boolean): PathProblem[] {
  return repositoryFiles(root)
    .filter((file) => !skip(file))
    .flatMap((file) => {
      const bytes = readFileSync(`${root}/${file}`);
      return bytes.includes(0) ? [] : findOutsidePaths(file, bytes.toString("utf8"));
    });
}
