/**
 * Checks, before any work, that a file can be written where the user asked: not a folder, under
 * a folder (not a file), in a place this process may write. A long run that fails only at its
 * final save loses the run; this check costs a directory probe.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The nearest path at or above `dir` that exists (the root always does). */
function nearestExisting(dir: string): string {
  let current = dir;
  while (!fs.existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

/**
 * Throws naming `label` (e.g. "--out") and the path when `file` cannot be written. Folders that do
 * not exist yet are fine (the writer creates them) as long as their nearest existing ancestor is
 * a folder this process can create files in.
 */
export function checkOutputFile(label: string, file: string): void {
  const resolved = path.resolve(file);
  if (fs.existsSync(resolved) && fs.statSync(resolved).isDirectory()) {
    throw new Error(`${label} "${file}" is a folder; give a file name inside it`);
  }
  const ancestor = nearestExisting(path.dirname(resolved));
  if (!fs.statSync(ancestor).isDirectory()) {
    throw new Error(`${label} "${file}": "${ancestor}" is a file, not a folder`);
  }
  // Permission bits do not tell the whole story (root, read-only mounts, /proc): try it.
  const probe = path.join(ancestor, `.fairdiff-write-probe-${process.pid}`);
  try {
    fs.closeSync(fs.openSync(probe, "wx"));
    fs.rmSync(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new Error(`${label} "${file}": cannot create files in "${ancestor}" (${code})`);
  }
}

/**
 * The report files a command writes (`--out`, and `--json` / `--markdown` when given), each
 * checked as `checkOutputFile` does, before any work.
 */
export function checkReportFiles(files: { out: string; json?: string; markdown?: string }): void {
  checkOutputFile("--out", files.out);
  if (files.json !== undefined) checkOutputFile("--json", files.json);
  if (files.markdown !== undefined) checkOutputFile("--markdown", files.markdown);
}
