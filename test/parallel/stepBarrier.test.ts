/**
 * The data-parallel step's barrier: nobody passes before everyone arrives, the posted numbers
 * are summed in replica order, and an abort wakes a waiting replica instead of leaving it.
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { StepBarrier, StepBarrierAborted } from "../../src/parallel/stepBarrier";

// Workers load the compiled module, as the trainer's replica workers do.
const compiled = path.resolve(__dirname, "../../dist/src/parallel/stepBarrier.js");

test("replicas pass together, phase after phase; totals are summed in replica order", async () => {
  const barrier = StepBarrier.create(2);
  const phases = 6;
  // The other replica: posts 10·phase + 1 as its loss, arrives late, reads the totals after.
  const worker = new Worker(
    `const { workerData, parentPort } = require("node:worker_threads");
     const { StepBarrier } = require(${JSON.stringify(compiled)});
     const barrier = StepBarrier.attach(workerData);
     (async () => {
       const seen = [];
       for (let phase = 0; phase < ${phases}; phase++) {
         // Late in even phases; in odd ones it waits for this thread (past the spin, asleep).
         if (phase % 2 === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
         barrier.post(1, "loss", 10 * phase + 1);
         await barrier.arrive();
         seen.push(barrier.total("loss"));
         await barrier.arrive();
       }
       parentPort.postMessage(seen);
     })();`,
    { eval: true, workerData: barrier.shared },
  );
  const seenThere = new Promise<number[]>((resolve) => worker.once("message", resolve));
  const seenHere: number[] = [];
  for (let phase = 0; phase < phases; phase++) {
    barrier.post(0, "loss", 0.5);
    if (phase % 2 === 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const before = performance.now();
    await barrier.arrive();
    // In even phases the worker arrives ≥ 5 ms after the last barrier: this one waited for it.
    if (phase % 2 === 0) expect(performance.now() - before).toBeGreaterThan(3);
    seenHere.push(barrier.total("loss"));
    await barrier.arrive();
  }
  const expected = Array.from({ length: phases }, (_, phase) => 0.5 + 10 * phase + 1);
  expect(seenHere).toEqual(expected);
  expect(await seenThere).toEqual(expected);
  await worker.terminate();
}, 30000);

test("an abort wakes a replica waiting at the barrier, and every later arrival throws", async () => {
  const barrier = StepBarrier.create(2);
  const waiting = barrier.arrive();
  setTimeout(() => barrier.abort(), 20);
  await expect(waiting).rejects.toThrow(StepBarrierAborted);
  expect(barrier.aborted).toBe(true);
  await expect(barrier.arrive()).rejects.toThrow(/another replica failed/);
});
