/**
 * `fairdiff start` (what `npm start` runs): checks this machine end to end — picks the backend,
 * then trains the reference conv net for a few steps on one core and data-parallel on all
 * cores, printing step times. The notebook lab is not built yet; this is the honest main job
 * until it is.
 */
import * as os from "node:os";
import type { Command } from "commander";
import { describeBackend, useBackend } from "../../backend";
import { createReferenceTrainer } from "../../parallel";
import { ProgressBar } from "../progressBar";
import { referenceBatch } from "../../backend/referenceConvNet";

async function timeTraining(
  replicas: number,
  steps: number,
): Promise<{ ms: number; loss: number }> {
  const trainer = await createReferenceTrainer(replicas);
  try {
    let loss = 0;
    const bar = new ProgressBar(`  ${replicas} replica(s)`, steps);
    const start = performance.now();
    for (let s = 0; s < steps; s++) {
      loss = (await trainer.step(referenceBatch(s))).loss;
      bar.update(s + 1, `loss ${loss.toFixed(4)}`);
    }
    return { ms: (performance.now() - start) / steps, loss };
  } finally {
    await trainer.dispose();
  }
}

export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("check this machine: backend choice and training speed on one and all cores")
    .option("--steps <n>", "training steps per measurement", "3")
    .action(async (opts: { steps: string }) => {
      const steps = Number(opts.steps);
      if (!Number.isInteger(steps) || steps < 1)
        throw new Error(`--steps must be ≥ 1, got ${opts.steps}`);
      console.log("fairdiff — machine check\n");
      console.log(describeBackend(await useBackend("auto")));
      console.log("\ntraining the reference conv net (75,496 params, batch 32, 32×32×1) on wasm:");
      const one = await timeTraining(1, steps);
      const cores = Math.min(os.availableParallelism(), 4);
      const all = cores > 1 ? await timeTraining(cores, steps) : one;
      console.log(
        `  1 core: ${one.ms.toFixed(0)} ms/step; ${cores} cores: ${all.ms.toFixed(0)} ms/step`,
      );
    });
}
