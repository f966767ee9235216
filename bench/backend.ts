/**
 * Backend benchmark: trains the reference conv net (5 convs, 75,496 params, batch 32,
 * 32×32×1, Adam) on tfjs wasm — one replica, then data-parallel over both cores — and the
 * identical network in PyTorch with 1 and 2 threads, in the same run. Prints ms/step and the
 * tfjs/PyTorch ratios (lower is better; < 1 means tfjs is faster).
 */
import * as path from "node:path";
import * as os from "node:os";
import { useBackend, describeBackend } from "../src/backend";
import { createReferenceTrainer } from "../src/parallel";
import { referenceBatch } from "../src/backend/referenceConvNet";
import { peerHasModules, runPeerJson } from "./peers/python";

const BATCH = 32;
const SIZE = 32;

async function tfjsMsPerStep(replicas: number, steps: number): Promise<number> {
  const trainer = await createReferenceTrainer(replicas);
  const batch = referenceBatch(0, BATCH, SIZE);
  try {
    for (let i = 0; i < 2; i++) await trainer.step(batch);
    const start = performance.now();
    for (let i = 0; i < steps; i++) await trainer.step(batch);
    return (performance.now() - start) / steps;
  } finally {
    await trainer.dispose();
  }
}

/** The same net on WebGPU (Dawn) where a GPU adapter exists; otherwise says why not. */
async function webgpuRow(steps: number): Promise<void> {
  try {
    const info = await useBackend("webgpu");
    const ms = await tfjsMsPerStep(1, steps);
    console.log(`webgpu (${info.adapter ?? "adapter"}): ${ms.toFixed(1)} ms/step`);
  } catch (error) {
    console.log(`webgpu: not measured — ${(error as Error).message}`);
  } finally {
    await useBackend("wasm");
  }
}

export async function main(args: string[]): Promise<void> {
  const steps = Number(args[0] ?? 8);
  const info = await useBackend("wasm");
  console.log(describeBackend(info));
  console.log(`machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}`);
  const cores = Math.min(2, os.availableParallelism());
  const rows: Array<{ cores: number; tfjs: number; torch?: number }> = [];
  for (let c = 1; c <= cores; c++) rows.push({ cores: c, tfjs: await tfjsMsPerStep(c, steps) });
  if (peerHasModules(["torch"])) {
    const script = path.join(__dirname, "../../bench/peers/reference_net.py");
    for (const row of rows) {
      row.torch = runPeerJson<{ ms_per_step: number }>(script, [
        String(steps),
        String(row.cores),
      ]).ms_per_step;
    }
  } else {
    console.log("PyTorch peer missing (apt install python3-torch): ratios not computed");
  }
  console.log("\nreference conv net, ms per training step (batch 32, 32×32×1, Adam)");
  console.log("cores  tfjs-wasm  pytorch  ratio tfjs/pytorch");
  for (const r of rows) {
    const ratio = r.torch ? (r.tfjs / r.torch).toFixed(2) : "n/a";
    console.log(
      `${String(r.cores).padEnd(6)} ${r.tfjs.toFixed(1).padStart(9)}  ${(r.torch?.toFixed(1) ?? "n/a").padStart(7)}  ${ratio}`,
    );
  }
  await webgpuRow(steps);
  if (rows.length > 1) {
    console.log(
      `data-parallel speed-up on ${rows[1].cores} cores: ${(rows[0].tfjs / rows[1].tfjs).toFixed(2)}×`,
    );
  }
}
