/**
 * `fairdiff checkpoint upgrade` rewrites a format-1 file as format 2 with every value bit for
 * bit (then its corruption check applies), and `verify` makes the load-time checks and says so.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadCheckpoint } from "../../src/io/checkpoint";
import { checkpointDifference } from "../../src/io/checkpointUpgrade";
import { asVersion1, readRawCheckpoint, writeRawCheckpoint } from "./rawCheckpoint";

const CLI = path.resolve(__dirname, "../../dist/src/cli/main.js");
const SHIPPED = path.resolve(__dirname, "../../models/cxr-classifier.fdckpt");

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-upgrade-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const fairdiff = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });

test("upgrade: format 1 → 2, content identical; verify reports the hashes checked", () => {
  const old = path.join(dir, "old.fdckpt");
  writeRawCheckpoint(old, asVersion1(readRawCheckpoint(SHIPPED)));
  const before = loadCheckpoint(old);
  expect(fairdiff("checkpoint", "verify", old).stdout).toMatch(/format 1, .*no hashes/);

  const upgraded = fairdiff("checkpoint", "upgrade", old);
  expect(upgraded.stdout).toMatch(/old.fdckpt: format 1 → 2, content identical/);
  expect(upgraded.status).toBe(0);
  expect(readRawCheckpoint(old).header.version).toBe(2);
  expect(checkpointDifference(before, loadCheckpoint(old))).toBeUndefined();
  const verified = fairdiff("checkpoint", "verify", old);
  expect(verified.stdout).toMatch(
    /subgroup-classifier, format 2, 20 tensors, [\d,]+ values, all finite, SHA-256 verified/,
  );
});

test("verify fails on a corrupt file, naming it and the tensor", () => {
  const bad = path.join(dir, "bad.fdckpt");
  const bytes = fs.readFileSync(SHIPPED);
  bytes[bytes.length - 100] ^= 0xff;
  fs.writeFileSync(bad, bytes);
  const run = fairdiff("checkpoint", "verify", bad);
  expect(run.stderr).toMatch(/bad.fdckpt: tensor ".*" fails its SHA-256 check/);
  expect(run.status).toBe(1);
});
