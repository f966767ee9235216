/**
 * tfjs-wasm's threaded build under Node (src/backend/wasmThreads.ts), through the built CLI as a
 * user starts it: FAIRDIFF_WASM_THREADS=2 gives a backend with two XNNPACK threads, a seeded
 * sample grid identical to the single-threaded one, and a process that exits on its own (the
 * pool's idle workers must not keep it alive). A bad value is refused naming the variable.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { wasmThreadsFromEnvironment } from "../../src/backend/wasmThreads";
import { BUILT_CLI } from "../helpers/cliWorker";
import { testWhen } from "../helpers/requirements";

const PROMPT = "Chest Radiography image of a patient diagnosed with Pleural Effusion";

function cli(args: string[], threads: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env, FAIRDIFF_BACKEND: "wasm" };
  delete env.FAIRDIFF_WASM_THREADS;
  if (threads !== undefined) env.FAIRDIFF_WASM_THREADS = threads;
  // A hung pool would hit the timeout: the run must end by itself.
  const run = spawnSync(process.execPath, [BUILT_CLI, ...args], { env, timeout: 90_000 });
  return { status: run.status, signal: run.signal, text: `${run.stdout}${run.stderr}` };
}

testWhen(fs.existsSync(BUILT_CLI), "the built CLI (npm run build)")(
  "two XNNPACK threads: same images as one thread, and the process exits by itself",
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-wasm-threads-test-"));
    try {
      const described = cli(["backend", "--backend", "wasm"], "2");
      expect(described.status).toBe(0);
      expect(described.text).toMatch(/training kernels, 2 XNNPACK threads/);
      const grids = ["1", "2"].map((threads) => {
        const out = path.join(dir, `grid-${threads}.png`);
        const run = cli(
          ["sample", "--prompt", PROMPT, "-n", "4", "--steps", "4", "--seed", "3", "-o", out],
          threads,
        );
        expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
        return fs.readFileSync(out);
      });
      expect(grids[1].equals(grids[0])).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  240_000,
);

test("FAIRDIFF_WASM_THREADS: unset is one thread; a bad value names the variable", () => {
  const saved = process.env.FAIRDIFF_WASM_THREADS;
  try {
    delete process.env.FAIRDIFF_WASM_THREADS;
    expect(wasmThreadsFromEnvironment()).toBe(1);
    process.env.FAIRDIFF_WASM_THREADS = "4";
    expect(wasmThreadsFromEnvironment()).toBe(4);
    for (const bad of ["0", "9", "two", "1.5"]) {
      process.env.FAIRDIFF_WASM_THREADS = bad;
      expect(() => wasmThreadsFromEnvironment()).toThrow(
        new RegExp(`FAIRDIFF_WASM_THREADS must be an integer from 1 to 8.*got "${bad}"`),
      );
    }
  } finally {
    if (saved === undefined) delete process.env.FAIRDIFF_WASM_THREADS;
    else process.env.FAIRDIFF_WASM_THREADS = saved;
  }
});
