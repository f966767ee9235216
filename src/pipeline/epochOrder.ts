/**
 * Which training example fills each batch slot: a fresh seeded permutation per epoch, indexed
 * by the global position step·batch + k — so any step's batch is known without replaying the
 * run (exact resume).
 */
import { createRng } from "../util/random";

export class EpochOrder {
  private readonly permutations = new Map<number, Int32Array>();

  constructor(
    readonly size: number,
    readonly seed: number,
  ) {
    if (!Number.isInteger(size) || size <= 0)
      throw new Error(`dataset size must be > 0, got ${size}`);
  }

  batchIndices(step: number, batchSize: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < batchSize; k++) {
      const position = step * batchSize + k;
      const epoch = Math.floor(position / this.size);
      out.push(this.permutation(epoch)[position % this.size]);
    }
    return out;
  }

  private permutation(epoch: number): Int32Array {
    let perm = this.permutations.get(epoch);
    if (!perm) {
      const order = Array.from({ length: this.size }, (_, i) => i);
      perm = Int32Array.from(createRng(this.seed).fork(`epoch:${epoch}`).shuffle(order));
      this.permutations.clear(); // only the current epoch is ever needed again
      this.permutations.set(epoch, perm);
    }
    return perm;
  }
}
