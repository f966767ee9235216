/** Splits a batch along its first axis into contiguous, near-equal shards. */
import type { ArrayBatch } from "../backend/trainableModel";

export function batchSize(batch: ArrayBatch): number {
  const sizes = new Set(Object.values(batch).map((t) => t.shape[0]));
  if (sizes.size !== 1)
    throw new Error(`batch entries disagree on their first dimension: ${[...sizes]}`);
  return [...sizes][0];
}

export function shardBatch(batch: ArrayBatch, shards: number): ArrayBatch[] {
  const n = batchSize(batch);
  if (shards > n) throw new Error(`cannot split a batch of ${n} into ${shards} shards`);
  const out: ArrayBatch[] = [];
  let start = 0;
  for (let s = 0; s < shards; s++) {
    const count = Math.floor(n / shards) + (s < n % shards ? 1 : 0);
    const shard: ArrayBatch = {};
    for (const [name, t] of Object.entries(batch)) {
      const row = t.values.length / n;
      shard[name] = {
        values: t.values.slice(start * row, (start + count) * row),
        shape: [count, ...t.shape.slice(1)],
        dtype: t.dtype,
      };
    }
    out.push(shard);
    start += count;
  }
  return out;
}
