/**
 * Errors before the work: every command line below used to crash late (out of memory, EISDIR on
 * a hidden temp file after training, "got NaN", a 6×4 PNG…). Each must now fail at once, exit 1,
 * name the flag and the value, write nothing, and leave no temporary file behind.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PNG } from "pngjs";

const ROOT = path.resolve(__dirname, "../..");
const CLI = path.join(ROOT, "dist/src/cli/main.js");

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-cli-input-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface CliResult {
  status: number | null;
  stderr: string;
  ms: number;
}

function fairdiff(...args: string[]): CliResult {
  const started = Date.now();
  const run = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { ...process.env, FAIRDIFF_BACKEND: "wasm" },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: run.status, stderr: run.stderr, ms: Date.now() - started };
}

/** What `dir` holds besides what the test put there (outputs, temp files). */
function leftovers(): string[] {
  return fs.readdirSync(dir).filter((name) => !name.startsWith("keep-"));
}

afterEach(() => {
  for (const name of leftovers()) fs.rmSync(path.join(dir, name), { recursive: true });
});

describe("huge counts are refused with the limit stated, not an out-of-memory crash", () => {
  test.each([
    [["sample", "--prompt", "x", "-n", "1e9"], /--n 1,000,000,000 needs .* at most [\d,]+ fit/],
    [["audit", "-n", "1e9", "--steps", "1"], /--n 1,000,000,000 needs .* at most [\d,]+ fit/],
    [
      ["finetune", "--steps", "1e9", "-o", "t.fdckpt"],
      /--steps must be an integer ≥ 1 and ≤ 1,000,000 \(a run longer than a million steps is refused\), got "1e9"/,
    ],
    [
      ["dataset", "summary", "-c", "cxr", "-n", "1e9"],
      /--size must be an integer ≥ 1 and ≤ 1,000,000 \(every record is held in memory\), got "1e9"/,
    ],
  ])("fairdiff %j", (args, message) => {
    const run = fairdiff(...args);
    expect(run.stderr).toMatch(message);
    expect(run.status).toBe(1);
    expect(leftovers()).toEqual([]);
  });
});

describe("output paths are checked before any work", () => {
  test("train --out <a folder> fails before training, naming the folder", () => {
    fs.mkdirSync(path.join(dir, "keep-models"));
    const run = fairdiff("train", "--out", "keep-models", "--autoencoder-steps", "5");
    expect(run.stderr).toMatch(/--out "keep-models" is a folder; give a file name inside it/);
    expect(run.stderr).not.toMatch(/autoencoder|EISDIR/);
    expect(run.status).toBe(1);
    expect(fs.readdirSync(path.join(dir, "keep-models"))).toEqual([]);
    fs.rmSync(path.join(dir, "keep-models"), { recursive: true });
  });

  test("a file where a folder should be, and a place no file can be created", () => {
    fs.writeFileSync(path.join(dir, "keep-img.png"), "not a folder");
    const underFile = fairdiff("sample", "--prompt", "x", "--out", "keep-img.png/x.png");
    expect(underFile.stderr).toMatch(/--out "keep-img.png\/x.png": ".*keep-img.png" is a file/);
    expect(underFile.status).toBe(1);
    const proc = fairdiff("sample", "--prompt", "x", "--out", "/proc/1/x.png");
    expect(proc.stderr).toMatch(/--out "\/proc\/1\/x.png": cannot create files in "\/proc\/1"/);
    expect(proc.status).toBe(1);
    fs.rmSync(path.join(dir, "keep-img.png"));
  });

  test("audit --json into a folder fails before the HTML is written", () => {
    fs.mkdirSync(path.join(dir, "keep-json"));
    const run = fairdiff("audit", "-n", "2", "--steps", "1", "--json", "keep-json");
    expect(run.stderr).toMatch(/--json "keep-json" is a folder/);
    expect(run.status).toBe(1);
    expect(leftovers()).toEqual([]);
    fs.rmSync(path.join(dir, "keep-json"), { recursive: true });
  });
});

describe("numbers name their flag and value", () => {
  test.each([
    [["sample", "--prompt", "x", "--steps", "abc"], /--steps must be an integer ≥ 1 .*got "abc"/],
    [["sample", "--prompt", "x", "--seed", "abc"], /--seed must be an integer ≥ 0 .*got "abc"/],
    [["sample", "--prompt", "x", "--scale", "0"], /--scale must be an integer ≥ 1 .*got "0"/],
    [["sample", "--prompt", "x", "--scale", "abc"], /--scale must be .*got "abc"/],
    [["sample", "--prompt", "x", "--guidance", "0x10"], /--guidance must be a number .*"0x10"/],
    [["audit", "--seed", "-1"], /--seed must be an integer ≥ 0 .*got "-1"/],
    [["finetune", "-o", "t.fdckpt", "--ema", "1"], /--ema must be a number ≥ 0 and < 1/],
    [["train", "-o", "m.fdckpt", "--denoiser-steps", "2.5"], /--denoiser-steps must be an integer/],
    [
      ["classifier", "train", "-o", "c.fdckpt", "--size", "3"],
      /--size must be an integer ≥ 40 .*got "3"/,
    ],
    [["lab", "serve", "--port", "70000"], /--port must be an integer ≥ 0 and ≤ 65,535/],
  ])("fairdiff %j", (args, message) => {
    const run = fairdiff(...args);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/NaN/);
    expect(run.status).toBe(1);
    expect(leftovers()).toEqual([]);
  });
});

describe("prompts the model cannot read as written get a note", () => {
  test("an empty prompt and a 100 KB prompt are sampled with a note saying what happens", () => {
    const empty = fairdiff("sample", "--prompt", "", "-n", "1", "--steps", "1", "-o", "e.png");
    expect(empty.stderr).toMatch(/note: the prompt has no words: the images are unconditional/);
    expect(empty.status).toBe(0);
    const words = Array.from({ length: 12_000 }, (_, i) => (i % 2 ? "effusion" : "pleural"));
    const long = fairdiff("sample", "--prompt", words.join(" "), "-n", "1", "--steps", "1");
    expect(long.stderr).toMatch(
      /note: the prompt has 12000 words; the model reads the first \d+ and ignores the rest/,
    );
    expect(long.status).toBe(0);
    const png = PNG.sync.read(fs.readFileSync(path.join(dir, "grid.png")));
    expect(png.width).toBeGreaterThan(6);
  });
});
