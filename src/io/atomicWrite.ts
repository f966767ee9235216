/**
 * Writes a file so that readers see either the old content or the new, never a torn mix:
 * write a temporary sibling, fsync it, rename over the target, fsync the directory.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export function writeFileAtomic(target: string, data: Uint8Array | string): void {
  const dir = path.dirname(path.resolve(target));
  fs.mkdirSync(dir, { recursive: true });
  const temp = path.join(
    dir,
    `.${path.basename(target)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`,
  );
  const fd = fs.openSync(temp, "w");
  try {
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(temp, target);
  try {
    const dirFd = fs.openSync(dir, "r");
    fs.fsyncSync(dirFd);
    fs.closeSync(dirFd);
  } catch {
    // Some filesystems refuse to fsync a directory; the rename itself is still atomic.
  }
}
