/**
 * Data-parallel replicas' gradient shares in shared memory: each replica writes its share (one
 * array per variable, on one SharedArrayBuffer per replica); each replica then adds them, in
 * replica order, into replica 0's over the variables it updates, and updates them from that sum
 * where it lies, so no share is copied or sent.
 */
import { loadNativeKernels, type NativeAddon } from "../backend/nativeKernels/nativeAddon";

export interface ReplicaShares {
  /** [replica][variable]: views on the replica's SharedArrayBuffer. */
  shares: Float32Array[][];
  /** [replica]: the same memory, every variable one after another. */
  flat: Float32Array[];
}

/** Room for `replicas` shares of variables of these sizes. */
export function sharedReplicaShares(lengths: number[], replicas: number): ReplicaShares {
  const total = lengths.reduce((n, l) => n + l, 0);
  const flat = Array.from(
    { length: replicas },
    () => new Float32Array(new SharedArrayBuffer(total * Float32Array.BYTES_PER_ELEMENT)),
  );
  const shares = flat.map((memory) => {
    let offset = 0;
    return lengths.map((length) => {
      const view = memory.subarray(offset, offset + length);
      offset += length;
      return view;
    });
  });
  return { shares, flat };
}

/**
 * Adds every replica's share into replica 0's over the elements [start, end) of the variables
 * laid one after another (all of them by default), in replica order and in float, and returns
 * Σ of the sum's squares there (its squared L2 norm, for clipping): one native pass where the
 * kernels are built, else a loop. Each data-parallel replica sums the part it updates
 * (updatePartition.ts).
 */
export function sumIntoFirst(
  shares: ReplicaShares,
  range: { start: number; end: number } = { start: 0, end: shares.flat[0].length },
  addon: NativeAddon | undefined = loadNativeKernels().addon,
): number {
  const flat = shares.flat.map((memory) => memory.subarray(range.start, range.end));
  if (addon) return addon.sumIntoFirst(flat);
  const [first, ...others] = flat;
  // Plain loops with a local accumulator: a total captured by a closure is boxed on every add.
  let squares = 0;
  for (let j = 0; j < first.length; j++) {
    let sum = first[j];
    for (const other of others) sum = Math.fround(sum + other[j]);
    first[j] = sum;
    squares += sum * sum;
  }
  return squares;
}
