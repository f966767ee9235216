/**
 * Data-parallel replicas' gradient shares in shared memory: each replica writes its share (one
 * array per variable, on one SharedArrayBuffer per replica), the trainer adds them into replica
 * 0's once, in replica order, and every replica applies that sum where it lies, so no share is
 * copied or sent and every replica applies the same floats.
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
 * Adds every replica's share into replica 0's, in replica order and in float (the sum each
 * replica's update used to take again for itself), and returns Σ of the sum's squares (its squared
 * L2 norm, for clipping): one native pass where the kernels are built, else a loop. Every replica
 * then applies `shares[0]` alone.
 */
export function sumIntoFirst(
  { flat }: ReplicaShares,
  addon: NativeAddon | undefined = loadNativeKernels().addon,
): number {
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
