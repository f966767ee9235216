/**
 * Atomic writes leave no temporary file behind: not when the write fails (the target is a
 * folder), and not after a writer was killed mid-write (the next write of that file removes it).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "../../src/io/atomicWrite";
import { checkOutputFile } from "../../src/io/outputPath";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-atomic-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a failed write removes its temporary file and keeps what was there", () => {
  const target = path.join(dir, "model.fdckpt");
  fs.mkdirSync(target);
  expect(() => writeFileAtomic(target, "new")).toThrow(/EISDIR|EEXIST|ENOTEMPTY|directory/);
  expect(fs.readdirSync(dir)).toEqual(["model.fdckpt"]);
  expect(fs.statSync(target).isDirectory()).toBe(true);
});

test("a temporary file of a killed writer is removed by the next write; a live one's is kept", () => {
  const target = path.join(dir, "report.html");
  // A pid that ran and exited: its process can no longer be writing.
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  const deadTemp = path.join(dir, `.report.html.tmp-${dead.stdout}-abc123`);
  const liveTemp = path.join(dir, `.report.html.tmp-${process.ppid}-def456`);
  fs.writeFileSync(deadTemp, "torn");
  fs.writeFileSync(liveTemp, "being written");
  writeFileAtomic(target, "<html></html>");
  expect(fs.readdirSync(dir).sort()).toEqual([path.basename(liveTemp), "report.html"].sort());
  expect(fs.readFileSync(target, "utf8")).toBe("<html></html>");
});

test("output checks name the flag and the path", () => {
  fs.writeFileSync(path.join(dir, "file"), "x");
  expect(() => checkOutputFile("--out", dir)).toThrow(`--out "${dir}" is a folder`);
  expect(() => checkOutputFile("--json", path.join(dir, "file", "a", "b.json"))).toThrow(
    /--json ".*file\/a\/b.json": ".*file" is a file, not a folder/,
  );
  expect(() => checkOutputFile("--out", "/proc/1/x.png")).toThrow(
    /--out "\/proc\/1\/x.png": cannot create files in "\/proc\/1"/,
  );
  expect(() => checkOutputFile("--out", path.join(dir, "new", "deeper", "m.fdckpt"))).not.toThrow();
  // The check itself leaves nothing behind.
  expect(fs.readdirSync(dir)).toEqual(["file"]);
});
