/** readInto copies a tensor's values into the caller's array on every backend, or says why not. */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { readInto } from "../../src/backend/readInto";

for (const backend of ["cpu", "wasm"] as const) {
  test(`the values land in the given array, a shared one included [${backend}]`, async () => {
    await useBackend(backend);
    const t = tf.tidy(() => tf.mul(tf.range(0, 6, 1, "float32"), 0.5).reshape([2, 3]));
    const target = new Float32Array(new SharedArrayBuffer(6 * 4));
    await readInto(t, target);
    expect(Array.from(target)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    // A copy: later changes to the array do not reach the tensor.
    target.fill(9);
    expect(Array.from(await t.data())).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    await expect(readInto(t, new Float32Array(5))).rejects.toThrow(
      /a float32 tensor of 5 values expected, got float32 \[2,3\]/,
    );
    t.dispose();
  });
}
