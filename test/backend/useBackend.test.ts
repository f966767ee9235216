/** Backend selection: explicit names, auto fallback with reasons, and clear errors. */
import * as tf from "@tensorflow/tfjs-core";
import { backendInfo, describeBackend, useBackend } from "../../src/backend";
import type { BackendRequest } from "../../src/backend";

test("auto picks a working backend and explains every candidate it passed over", async () => {
  const info = await useBackend("auto");
  expect(tf.getBackend()).toBe(info.name);
  expect(backendInfo()).toBe(info);
  const chosen = info.candidates.filter((c) => c.chosen);
  expect(chosen).toHaveLength(1);
  for (const skipped of info.candidates.filter((c) => !c.chosen)) {
    expect(skipped.reason.length).toBeGreaterThan(5);
  }
  // tfjs-node is not a dependency: on a machine without it, auto says it is not installed.
  const node = info.candidates.find((c) => c.source === "@tensorflow/tfjs-node");
  if (node && !node.chosen) expect(node.reason).toMatch(/not installed|failed to load|no working/);
  expect(describeBackend(info)).toContain(info.name);
});

test("wasm is selectable by name and carries fairdiff's training kernels", async () => {
  const info = await useBackend("wasm");
  expect(info.name).toBe("wasm");
  expect(tf.getBackend()).toBe("wasm");
  expect(info.addedKernels).toEqual(
    expect.arrayContaining(["Conv2DBackpropFilter", "Conv2DBackpropInput", "UnsortedSegmentSum"]),
  );
  // A conv net's gradient runs on wasm (Conv2DBackpropFilter is missing from stock tfjs wasm).
  const grad = tf.tidy(() => {
    const x = tf.ones([1, 5, 5, 2]);
    const w = tf.variable(tf.ones([3, 3, 2, 1]));
    const g = tf.variableGrads(
      () => tf.sum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same")) as tf.Scalar,
      [w],
    );
    return g.grads[w.name].sum().dataSync()[0];
  });
  // Each filter tap sees the input on (5 − |offset|)-wide rows/cols: Σ over taps and channels.
  expect(grad).toBeCloseTo(2 * (4 + 5 + 4) * (4 + 5 + 4), 3);
});

test("an unknown backend name is rejected with the name in the message", async () => {
  await expect(useBackend("tpu" as BackendRequest)).rejects.toThrow(/unknown backend "tpu"/);
});

test("asking for tensorflow where tfjs-node is absent says why", async () => {
  let installed = true;
  try {
    require.resolve("@tensorflow/tfjs-node");
  } catch {
    installed = false;
  }
  if (installed) return expect(installed).toBe(true);
  await expect(useBackend("tensorflow")).rejects.toThrow(/tfjs-node(-gpu)? is not installed/);
});
