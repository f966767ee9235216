/**
 * Writes a file so that readers see either the old content or the new, never a torn mix:
 * write a temporary sibling, fsync it, rename over the target, fsync the directory. The temporary
 * file never outlives a failed write, and one left by a killed process (its pid no longer runs)
 * is removed by the next write of the same target.
 */
import * as fs from "node:fs";
import * as path from "node:path";

function tempPrefix(target: string): string {
  return `.${path.basename(target)}.tmp-`;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Temporary siblings of `target` left by processes that no longer run (a kill -9 mid-write). */
export function removeStaleTempFiles(target: string): void {
  const dir = path.dirname(path.resolve(target));
  const prefix = tempPrefix(target);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processRuns(pid)) {
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}

export function writeFileAtomic(target: string, data: Uint8Array | string): void {
  const dir = path.dirname(path.resolve(target));
  fs.mkdirSync(dir, { recursive: true });
  removeStaleTempFiles(target);
  const temp = path.join(
    dir,
    `${tempPrefix(target)}${process.pid}-${Math.random().toString(36).slice(2)}`,
  );
  const fd = fs.openSync(temp, "w");
  try {
    try {
      fs.writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, target);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  try {
    const dirFd = fs.openSync(dir, "r");
    fs.fsyncSync(dirFd);
    fs.closeSync(dirFd);
  } catch {
    // Some filesystems refuse to fsync a directory; the rename itself is still atomic.
  }
}
