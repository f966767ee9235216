/**
 * How a backend is chosen: one parser for --backend and FAIRDIFF_BACKEND, the rule that keeps
 * auto off software adapters (and off WebGPU where wasm is faster), and --backend on every
 * command that computes or starts a kernel.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import type { Command } from "commander";
import {
  backendRequestFromEnvironment,
  describeAdapter,
  inspectWebgpuAdapterSync,
  parseBackendRequest,
  useBackend,
  webgpuBeatsWasm,
} from "../../src/backend";
import { kernelSpec } from "../../src/cli/commands/kernel";
import { createProgram } from "../../src/cli/program";
import { testWhen } from "../helpers/requirements";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "src", "cli", "main.js");

describe("one parser for every source of a backend name", () => {
  const saved = process.env.FAIRDIFF_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.FAIRDIFF_BACKEND;
    else process.env.FAIRDIFF_BACKEND = saved;
  });

  test("names are accepted in any case; others are refused naming the source and value", () => {
    expect(parseBackendRequest("WebGPU", "--backend")).toBe("webgpu");
    expect(parseBackendRequest("auto", "--backend")).toBe("auto");
    expect(() => parseBackendRequest("tpu", "--backend")).toThrow(
      '--backend: "tpu" is not a backend; expected one of auto | tensorflow | webgpu | wasm | cpu',
    );
  });

  test("FAIRDIFF_BACKEND: unset or empty is auto; a bad value is an error naming it", async () => {
    delete process.env.FAIRDIFF_BACKEND;
    expect(backendRequestFromEnvironment()).toBe("auto");
    process.env.FAIRDIFF_BACKEND = " ";
    expect(backendRequestFromEnvironment()).toBe("auto");
    process.env.FAIRDIFF_BACKEND = "cpu";
    expect((await useBackend()).name).toBe("cpu");
    process.env.FAIRDIFF_BACKEND = "gpu";
    await expect(useBackend()).rejects.toThrow(/FAIRDIFF_BACKEND: "gpu" is not a backend/);
    await useBackend("wasm");
  });
});

describe("auto and WebGPU adapters", () => {
  test("software adapters are recognised by name or by Dawn's fallback flag", () => {
    const lavapipe = describeAdapter(
      {
        vendor: "mesa",
        architecture: "software",
        device: "llvmpipe-llvm-15-0-6-256-bits-",
        description: "llvmpipe: Mesa 25.0.7",
      },
      false,
    );
    expect(lavapipe.software).toBe(true);
    expect(
      describeAdapter({ vendor: "google", description: "SwiftShader Device" }, false).software,
    ).toBe(true);
    expect(describeAdapter({ vendor: "nvidia", description: "NVIDIA H100" }, true).software).toBe(
      true,
    );
    const h100 = describeAdapter({ vendor: "nvidia", architecture: "hopper" }, false);
    expect(h100).toEqual({ name: "nvidia hopper", software: false });
  });

  test("auto prefers WebGPU nowhere it is measured slower, and says why", () => {
    const software = webgpuBeatsWasm({ name: "llvmpipe", software: true });
    expect(software.faster).toBe(false);
    expect(software.why).toMatch(/software adapter \(llvmpipe\).*slower than wasm/);
    const gpu = webgpuBeatsWasm({ name: "nvidia hopper", software: false });
    expect(gpu.faster).toBe(false);
    expect(gpu.why).toMatch(/H100: 4\.8–6\.0 s vs 0\.6–0\.9 s/);
  });

  const adapter = inspectWebgpuAdapterSync();
  testWhen(adapter.available, "a WebGPU adapter (Mesa 25 lavapipe from bookworm-backports)")(
    "with only a software adapter here, `fairdiff backend` chooses wasm, says why, and prints no Dawn warning",
    () => {
      expect(adapter.adapter?.software).toBe(true);
      const env = { ...process.env };
      delete env.FAIRDIFF_BACKEND;
      const run = spawnSync(process.execPath, [CLI, "backend"], { encoding: "utf8", env });
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^backend: wasm/);
      expect(run.stdout).toMatch(/- webgpu\s+software adapter \(.*\): shaders run on the CPU/);
      expect(run.stderr).not.toMatch(/artificially reduced/);
      expect(run.stdout).not.toMatch(/artificially reduced/);
    },
  );
});

describe("--backend on the command line", () => {
  /** Whether a command runs something itself (commander keeps its action privately). */
  const runsItself = (command: Command) =>
    (command as unknown as { _actionHandler: unknown })._actionHandler !== null;

  /**
   * Commands that run something, by their path, e.g. "classifier train": the leaves, and a
   * command with subcommands that also runs itself ("audit", beside "audit merge").
   */
  function leaves(command: Command, prefix = ""): Map<string, Command> {
    const out = new Map<string, Command>();
    for (const sub of command.commands) {
      const name = `${prefix}${sub.name()}`;
      if (sub.commands.length === 0 || runsItself(sub)) out.set(name, sub);
      for (const [n, c] of leaves(sub, `${name} `)) out.set(n, c);
    }
    return out;
  }

  test("every command that computes, or starts a kernel, takes --backend", () => {
    const commands = leaves(createProgram());
    // These compute nothing with tfjs and start no kernel.
    const without = [
      "checkpoint upgrade",
      "checkpoint verify",
      "dataset preview",
      "dataset summary",
      "lab install",
      // A queue worker computes on the backend each job names (its audit's or sweep's
      // --backend), and refuses a job whose fingerprint its machine cannot match.
      "worker",
    ];
    for (const [name, command] of commands) {
      const flags = command.options.map((o) => o.long);
      if (without.includes(name)) expect(flags).not.toContain("--backend");
      else expect([name, flags.includes("--backend")]).toEqual([name, true]);
    }
    expect([...commands.keys()]).toEqual(
      expect.arrayContaining(["audit", "sample", "train", "finetune", "evaluate", "start"]),
    );
  });

  test("a bad --backend or FAIRDIFF_BACKEND fails before any work, naming the value", () => {
    const bad = spawnSync(process.execPath, [CLI, "sample", "--prompt", "x", "--backend", "tpu"], {
      encoding: "utf8",
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--backend: "tpu" is not a backend; expected one of auto/);
    const env = { ...process.env, FAIRDIFF_BACKEND: "gpu" };
    const fromEnv = spawnSync(process.execPath, [CLI, "backend"], { encoding: "utf8", env });
    expect(fromEnv.status).toBe(1);
    expect(fromEnv.stderr).toMatch(/FAIRDIFF_BACKEND: "gpu" is not a backend/);
  });

  test("kernel install --backend pins FAIRDIFF_BACKEND in the kernelspec", () => {
    const spec = (backend?: "wasm") =>
      kernelSpec({ name: "fairdiff", displayName: "x", interruptMode: "signal", backend });
    expect(spec("wasm").env).toEqual({ FAIRDIFF_BACKEND: "wasm" });
    expect(spec().env).toEqual({});
  });
});
