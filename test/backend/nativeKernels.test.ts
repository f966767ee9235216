/**
 * fairdiff's native kernels (native/, loaded over the wasm backend) against the wasm kernels they
 * replace, over grids of shapes that cross the native code's blocking and edge cases: values
 * within 1e-4, and the same floats whatever the thread count or the number of rows.
 */
import * as child from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { backend_util, getKernel, type KernelConfig } from "@tensorflow/tfjs-core";
import { describeBackend, useBackend } from "../../src/backend";
import {
  builtForAnotherCpu,
  loadNativeKernels,
  missingAddonFunctions,
  nativeRequestFromEnvironment,
  nativeThreadsFromEnvironment,
  setNativeThreads,
} from "../../src/backend/nativeKernels/nativeAddon";
import {
  nativeKernelsActive,
  replacedWasmKernel,
} from "../../src/backend/nativeKernels/registerNativeKernels";
import { DataParallelTrainer, defaultReplicas } from "../../src/parallel";
import { maxAbsDiff, seededValues } from "../helpers/backends";
import { nativeKernelsBuilt as built, nativeTest } from "../helpers/nativeKernels";

jest.setTimeout(120_000);

const NATIVE_KERNELS = [
  "BatchMatMul",
  "_FusedMatMul",
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropInput",
  "Conv2DBackpropFilter",
  "FairdiffFusedNorm",
  "FairdiffFusedNormGrad",
  "FairdiffFusedAdamW",
  "FairdiffActivation",
  "FairdiffActivationGrad",
  "FairdiffFusedAttention",
  "FairdiffFusedMaskedAttention",
  "FairdiffFusedAttentionGrad",
  "Concat",
  "SplitV",
  "FairdiffConv2D",
  "FairdiffConv2DAdd",
  "FairdiffFusedLinear",
  "FairdiffFusedLinearResidual",
  "FairdiffFusedLinearGrad",
  "FairdiffConv2DGrad",
  "Add",
];

beforeAll(async () => {
  await useBackend("wasm");
});

const size = (shape: number[]) => shape.reduce((n, d) => n * d, 1);
const tensor = (shape: number[], seed: number) => tf.tensor(seededValues(size(shape), seed), shape);

/** Runs a kernel config directly on the wasm backend; returns its outputs' values. */
function run(config: KernelConfig, inputs: Record<string, tf.Tensor>, attrs: object) {
  const out = config.kernelFunc({
    inputs,
    backend: tf.backend(),
    attrs: attrs as tf.NamedAttrMap,
  });
  return (Array.isArray(out) ? out : [out]).map((info) => {
    const t = tf.engine().makeTensorFromTensorInfo(info);
    const values = t.dataSync() as Float32Array;
    t.dispose();
    return values;
  });
}

/** Native (as registered) and replaced kernel on the same inputs: the worst difference. */
function nativeVersusReplaced(name: string, inputs: Record<string, tf.Tensor>, attrs: object) {
  const native = run(getKernel(name, "wasm") as KernelConfig, inputs, attrs);
  const replaced = run(replacedWasmKernel(name) as KernelConfig, inputs, attrs);
  expect(native.map((v) => v.length)).toEqual(replaced.map((v) => v.length));
  // Relative to the output's scale where it passes 1: a sum over thousands of terms (a filter
  // gradient over 8,192 pixels) rounds differently in another order by ~1e-6 of its size.
  const scale = (v: Float32Array) => v.reduce((most, x) => Math.max(most, Math.abs(x)), 1);
  return Math.max(...native.map((v, i) => maxAbsDiff(v, replaced[i]) / scale(replaced[i])));
}

describe("native kernels", () => {
  nativeTest("load over the wasm backend and say so", async () => {
    const info = await useBackend("wasm");
    expect(nativeKernelsActive()).toBe(true);
    for (const name of NATIVE_KERNELS) {
      expect(info.addedKernels).toContain(`${name} (native)`);
      expect(replacedWasmKernel(name)).toBeDefined();
      expect(getKernel(name, "wasm")).not.toBe(replacedWasmKernel(name));
    }
    expect(describeBackend(info)).toMatch(
      /native kernels \(C\+\+, \d+-bit vectors, \d+ threads?\)/,
    );
  });

  nativeTest("matrix products: transposes, batches, bias and ReLU, across block edges", () => {
    // [m, n, k]: tiny, ragged tiles, k over one 256-deep block, a pooled size, and k past the
    // depth A's rows are read in place (packed in 256-deep blocks instead).
    const sizes = [
      [1, 1, 1],
      [7, 33, 5],
      [70, 130, 300],
      [300, 64, 600],
      [20, 40, 1100],
    ];
    let worst = 0;
    for (const [m, n, k] of sizes) {
      for (const [batchA, batchB] of [
        [1, 1],
        [3, 3],
        [1, 2],
        [2, 1],
      ]) {
        for (const transposeA of [false, true]) {
          for (const transposeB of [false, true]) {
            tf.tidy(() => {
              const a = tensor([batchA, ...(transposeA ? [k, m] : [m, k])], m + k);
              const b = tensor([batchB, ...(transposeB ? [n, k] : [k, n])], n + 2 * k);
              const bias = tensor([n], n);
              const flags = { transposeA, transposeB };
              worst = Math.max(worst, nativeVersusReplaced("BatchMatMul", { a, b }, flags));
              // tfjs-wasm's own _FusedMatMul is wrong with a bias and a transposed operand
              // (tfjs 4.22): the reference is the replaced BatchMatMul, then bias and ReLU.
              const [product] = run(
                replacedWasmKernel("BatchMatMul") as KernelConfig,
                { a, b },
                flags,
              );
              const biasValues = bias.dataSync();
              for (const activation of ["linear", "relu"]) {
                const expected = product.map((v, i) => {
                  const y = v + biasValues[i % n];
                  return activation === "relu" ? Math.max(0, y) : y;
                });
                const fusedKernel = getKernel("_FusedMatMul", "wasm") as KernelConfig;
                const [fused] = run(fusedKernel, { a, b, bias }, { ...flags, activation });
                worst = Math.max(worst, maxAbsDiff(fused, expected));
              }
            });
          }
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  nativeTest(
    "convolutions and both gradients: strides, paddings, dilation, 1×1, bias, ReLU",
    () => {
      interface Case {
        x: [number, number, number, number];
        k: number;
        outC: number;
        stride: number;
        pad: "same" | "valid" | number;
        dilation: number;
      }
      const cases: Case[] = [];
      for (const k of [1, 3, 4])
        for (const stride of [1, 2])
          for (const pad of ["same", "valid", 1] as const)
            cases.push({ x: [3, 13, 10, 16], k, outC: 24, stride, pad, dilation: 1 });
      cases.push({ x: [2, 12, 12, 8], k: 3, outC: 8, stride: 1, pad: "same", dilation: 2 });
      cases.push({ x: [64, 8, 8, 64], k: 3, outC: 64, stride: 1, pad: "same", dilation: 1 });
      // Outputs over several column panels, one partial; rows ending mid-tile; few row blocks,
      // so the columns are split into parts too (serially, then on the pool).
      cases.push({ x: [2, 5, 7, 16], k: 3, outC: 72, stride: 1, pad: "same", dilation: 1 });
      cases.push({ x: [4, 14, 14, 32], k: 3, outC: 96, stride: 1, pad: "same", dilation: 1 });
      // An image's col rows past half the filter gradient's 8 M-float chunk: one image a chunk,
      // the second added to the first's sum.
      cases.push({ x: [2, 64, 64, 128], k: 3, outC: 8, stride: 1, pad: "same", dilation: 1 });
      // Few output channels, as dot products (a UNet's last convolution to 4 latent channels, a
      // decoder's to 1, ragged input channels), and a UNet's first from 4 channels, whose input
      // gradient is such a convolution.
      cases.push({ x: [64, 8, 8, 32], k: 3, outC: 4, stride: 1, pad: "same", dilation: 1 });
      cases.push({ x: [3, 9, 7, 19], k: 3, outC: 1, stride: 2, pad: 1, dilation: 1 });
      cases.push({ x: [3, 8, 8, 4], k: 3, outC: 32, stride: 1, pad: "same", dilation: 1 });
      let worst = 0;
      for (const c of cases) {
        tf.tidy(() => {
          const filterShape = [c.k, c.k, c.x[3], c.outC] as [number, number, number, number];
          const info = backend_util.computeConv2DInfo(
            c.x,
            filterShape,
            c.stride,
            c.dilation,
            c.pad,
          );
          const x = tensor(c.x, 1);
          const filter = tensor(filterShape, 2);
          const dy = tensor(info.outShape, 3);
          const bias = tensor([c.outC], 4);
          const common = { strides: c.stride, pad: c.pad, dataFormat: "NHWC" };
          const forward = { ...common, dilations: c.dilation };
          worst = Math.max(worst, nativeVersusReplaced("Conv2D", { x, filter }, forward));
          for (const activation of ["linear", "relu"]) {
            worst = Math.max(
              worst,
              nativeVersusReplaced("FusedConv2D", { x, filter, bias }, { ...forward, activation }),
            );
          }
          if (c.dilation !== 1) return;
          worst = Math.max(
            worst,
            nativeVersusReplaced(
              "Conv2DBackpropInput",
              { dy, filter },
              { ...common, inputShape: c.x },
            ),
            nativeVersusReplaced("Conv2DBackpropFilter", { x, dy }, { ...common, filterShape }),
          );
        });
      }
      expect(worst).toBeLessThanOrEqual(1e-4);
    },
  );

  nativeTest(
    "AdamW gives the JavaScript loop's floats exactly; the norm matches the composed one",
    () => {
      tf.tidy(() => {
        const shapes = [[7], [64, 33], [3, 3, 8, 16], [1000]];
        const list = (seed: number, scale: number, positive = false) =>
          shapes.map((shape, i) => {
            const values = seededValues(size(shape), seed * 10 + i).map((v) => v * scale);
            return tf.tensor(positive ? values.map(Math.abs) : values, shape);
          });
        const inputs = [...list(1, 2), ...list(2, 0.3), ...list(3, 0.1), ...list(4, 0.01, true)];
        const attrs = {
          learningRate: 3e-3,
          weightDecay: 1e-2,
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-8,
          correction1: 1 - 0.9 ** 7,
          correction2: 1 - 0.999 ** 7,
          gradientScale: 0.37,
        };
        const asMap = inputs as unknown as Record<string, tf.Tensor>;
        const native = run(getKernel("FairdiffFusedAdamW", "wasm") as KernelConfig, asMap, attrs);
        const host = run(replacedWasmKernel("FairdiffFusedAdamW") as KernelConfig, asMap, attrs);
        expect(native.length).toBe(3 * shapes.length + 1);
        native.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(host[i])));

        const x = tensor([6, 5, 5, 32], 11);
        const gamma = tensor([32], 12);
        const beta = tensor([32], 13);
        const dy = tensor([6, 5, 5, 32], 14);
        for (const silu of [false, true]) {
          const norm = { groups: 8, epsilon: 1e-5, silu, batchDims: 1 };
          expect(
            Math.max(
              nativeVersusReplaced("FairdiffFusedNorm", { x, gamma, beta }, norm),
              nativeVersusReplaced("FairdiffFusedNormGrad", { dy, x, gamma, beta }, norm),
            ),
          ).toBeLessThanOrEqual(1e-4);
        }
      });
    },
  );

  nativeTest("SiLU and GELU match the composed kernels, on and off whole vectors", () => {
    tf.tidy(() => {
      let worst = 0;
      // Whole vectors of 4, 8 and 16 floats, the tails around them, and inputs deep in the tails.
      for (const [count, scale] of [
        [1, 1],
        [3, 2],
        [16, 3],
        [17, 3],
        [31, 1],
        [4099, 12],
      ]) {
        const x = tf.tensor(seededValues(count, count).map((v) => v * 2 * scale));
        const dy = tensor([count], count + 1);
        for (const activation of ["silu", "gelu"]) {
          worst = Math.max(
            worst,
            nativeVersusReplaced("FairdiffActivation", { x }, { activation }),
            nativeVersusReplaced("FairdiffActivationGrad", { dy, x }, { activation }),
          );
        }
      }
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  });

  nativeTest("attention matches the composed kernels: masks, one token, pooled sizes", () => {
    let worst = 0;
    // [batch, queries, keys, heads, headDim]: cxr-mini's cross-attention, one query and one key,
    // ragged head widths, and a size the pool splits (and the same with 3 threads).
    const shapes = [
      [32, 16, 16, 4, 16],
      [2, 1, 1, 1, 1],
      [3, 5, 7, 2, 3],
      [4, 64, 24, 4, 33],
    ];
    const attentionOf = (shape: number[], index: number) => {
      const [batch, queries, keys, heads, headDim] = shape;
      const width = heads * headDim;
      const q = tensor([batch, queries, width], 40 + index);
      const k = tensor([batch, keys, width], 50 + index);
      const v = tensor([batch, keys, width], 60 + index);
      const dy = tensor([batch, queries, width], 70 + index);
      // Image b hides its last b keys: image 0 none; with one key, image 1 hides every key.
      const keyMask = tf.tensor2d(
        Float32Array.from({ length: batch * keys }, (_, j) =>
          j % keys < keys - Math.floor(j / keys) ? 1 : 0,
        ),
        [batch, keys],
      );
      return { q, k, v, dy, keyMask, attrs: { heads, scale: 1 / Math.sqrt(headDim) } };
    };
    const before = setNativeThreads(1);
    try {
      tf.tidy(() => {
        for (const [index, shape] of shapes.entries()) {
          const { q, k, v, dy, keyMask, attrs } = attentionOf(shape, index);
          worst = Math.max(
            worst,
            nativeVersusReplaced("FairdiffFusedAttention", { q, k, v }, attrs),
            nativeVersusReplaced("FairdiffFusedMaskedAttention", { q, k, v, keyMask }, attrs),
            nativeVersusReplaced("FairdiffFusedAttentionGrad", { dy, q, k, v }, attrs),
            nativeVersusReplaced("FairdiffFusedAttentionGrad", { dy, q, k, v, keyMask }, attrs),
          );
        }
        const native = getKernel("FairdiffFusedAttentionGrad", "wasm") as KernelConfig;
        const { q, k, v, dy, keyMask, attrs } = attentionOf(shapes[3], 3);
        const one = run(native, { dy, q, k, v, keyMask }, attrs);
        setNativeThreads(3);
        const three = run(native, { dy, q, k, v, keyMask }, attrs);
        three.forEach((values, i) => expect(values).toEqual(one[i]));
      });
    } finally {
      setNativeThreads(before);
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  nativeTest("Concat and SplitV copy rows natively: the JavaScript copies' values", () => {
    tf.tidy(() => {
      // A skip connection's concat and its gradient's split, an int32 concat on axis 0, and a
      // bool split: the native row copy of every element type against copyWithin's.
      const a = tensor([32, 8, 8, 32], 1);
      const b = tensor([32, 8, 8, 64], 2);
      expect(nativeVersusReplaced("Concat", [a, b] as never, { axis: 3 })).toBe(0);
      expect(nativeVersusReplaced("SplitV", { x: b }, { numOrSizeSplits: [40, 24], axis: 3 })).toBe(
        0,
      );
      const ints = [
        tf.tensor([[1, 2, 3]], [1, 3], "int32"),
        tf.tensor(
          [
            [4, 5, 6],
            [7, 8, 9],
          ],
          [2, 3],
          "int32",
        ),
      ];
      const concatenated = run(getKernel("Concat", "wasm") as KernelConfig, ints as never, {
        axis: 0,
      });
      expect(Array.from(concatenated[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const flags = tf.tensor([1, 0, 0, 1, 1, 0], [2, 3], "bool");
      const pieces = run(
        getKernel("SplitV", "wasm") as KernelConfig,
        { x: flags },
        {
          numOrSizeSplits: [1, 2],
          axis: 1,
        },
      );
      expect(pieces.map((p) => Array.from(p))).toEqual([
        [1, 1],
        [0, 0, 1, 0],
      ]);
    });
  });

  nativeTest("fused convolutions and dense layers add their addend in the product", () => {
    tf.tidy(() => {
      // Shift and residual; a strided and a pointwise convolution, one to 4 channels (dot
      // products) and one whose output spans several column panels and ragged tiles; 2×2 images
      // so that a micro-tile's rows span images. The composed kernels add after the product, in
      // the same order: the same floats.
      let worst = 0;
      for (const [x, k, out, stride] of [
        [[32, 2, 2, 64], 3, 64, 1],
        [[3, 9, 7, 16], 3, 72, 2],
        [[4, 8, 8, 32], 1, 24, 1],
        [[5, 8, 8, 32], 3, 4, 1],
      ] as [[number, number, number, number], number, number, number][]) {
        const input = tensor(x, 1);
        const filter = tensor([k, k, x[3], out], 2);
        const bias = tensor([out], 3);
        const outShape = [x[0], Math.ceil(x[1] / stride), Math.ceil(x[2] / stride), out];
        const plain = { x: input, filter, bias };
        worst = Math.max(
          worst,
          nativeVersusReplaced("FairdiffConv2D", plain, { stride, addend: "none" }),
          nativeVersusReplaced(
            "FairdiffConv2DAdd",
            { ...plain, addend: tensor([x[0], out], 4) },
            { stride, addend: "shift" },
          ),
          nativeVersusReplaced(
            "FairdiffConv2DAdd",
            { ...plain, addend: tensor(outShape, 5) },
            { stride, addend: "residual" },
          ),
        );
      }
      for (const [rows, inFeatures, outFeatures] of [
        [480, 64, 64],
        [7, 33, 70],
      ]) {
        const linear = {
          x: tensor([rows, 1, inFeatures], 6),
          weight: tensor([inFeatures, outFeatures], 7),
          bias: tensor([outFeatures], 8),
        };
        worst = Math.max(
          worst,
          nativeVersusReplaced("FairdiffFusedLinear", linear, {}),
          nativeVersusReplaced(
            "FairdiffFusedLinearResidual",
            { ...linear, residual: tensor([rows, 1, outFeatures], 9) },
            { residual: true },
          ),
        );
      }
      expect(worst).toBe(0);
    });
  });

  nativeTest("fused convolution and dense layer backwards: the composition's floats", () => {
    tf.tidy(() => {
      // Each addend (its gradient: dy itself, or a sum per image), strided, pointwise and
      // few-channel convolutions; dense layers over ragged sizes and a rank-3 x. The native
      // backwards make the composition's products with its parameters: the same floats.
      let worst = 0;
      let outputs = 0;
      const count = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) => {
        outputs += run(getKernel(name, "wasm") as KernelConfig, inputs, attrs).length;
        return nativeVersusReplaced(name, inputs, attrs);
      };
      for (const [x, k, out, stride] of [
        [[4, 6, 6, 16], 3, 24, 1],
        [[3, 9, 7, 16], 3, 72, 2],
        [[2, 8, 8, 32], 1, 8, 1],
        [[5, 8, 8, 32], 3, 4, 1],
      ] as [[number, number, number, number], number, number, number][]) {
        const dyShape = [x[0], Math.ceil(x[1] / stride), Math.ceil(x[2] / stride), out];
        const inputs = {
          dy: tensor(dyShape, 1),
          x: tensor(x, 2),
          filter: tensor([k, k, x[3], out], 3),
        };
        for (const addend of ["none", "shift", "residual"]) {
          worst = Math.max(worst, count("FairdiffConv2DGrad", inputs, { stride, addend }));
        }
      }
      for (const [xShape, outFeatures] of [
        [[480, 64], 64],
        [[7, 3, 33], 70],
      ] as [number[], number][]) {
        const inFeatures = xShape[xShape.length - 1];
        const inputs = {
          dy: tensor([...xShape.slice(0, -1), outFeatures], 4),
          x: tensor(xShape, 5),
          weight: tensor([inFeatures, outFeatures], 6),
        };
        for (const residual of [false, true]) {
          worst = Math.max(worst, count("FairdiffFusedLinearGrad", inputs, { residual }));
        }
      }
      expect(worst).toBe(0);
      // dx, dW, db (+ the addend's gradient): 4 conv cases × (3 + 4 + 4), 2 dense × (3 + 4).
      expect(outputs).toBe(4 * 11 + 2 * 7);
    });
  });

  nativeTest(
    "Add of one shape runs natively: tfjs-wasm's floats; broadcasts and int32 fall back",
    () => {
      tf.tidy(() => {
        // Whole vectors, a ragged tail, and past the pool's sharing size.
        let worst = 0;
        for (const shape of [[3], [32, 15, 64], [2, 65_537]]) {
          const inputs = { a: tensor(shape, 1), b: tensor(shape, 2) };
          worst = Math.max(worst, nativeVersusReplaced("Add", inputs, {}));
        }
        expect(worst).toBe(0);
        const add = getKernel("Add", "wasm") as KernelConfig;
        const [broadcast] = run(add, { a: tensor([2, 3], 3), b: tf.tensor([10, 20, 30]) }, {});
        const a = tensor([2, 3], 3).dataSync();
        expect(Array.from(broadcast)).toEqual(
          Array.from(a).map((v, i) => Math.fround(v + 10 * (1 + (i % 3)))),
        );
        const [ints] = run(
          add,
          { a: tf.tensor([1, 2], [2], "int32"), b: tf.tensor([3, 4], [2], "int32") },
          {},
        );
        expect(Array.from(ints)).toEqual([4, 6]);
      });
    },
  );

  nativeTest("the same floats with 1 or 3 threads, and a row's result whatever the rows", () => {
    const product = (m: number) =>
      tf.tidy(() => {
        const a = tf.tensor(seededValues(m * 300, 5), [1, m, 300]);
        const b = tensor([1, 300, 200], 6);
        return tf.matMul(a, b).dataSync() as Float32Array;
      });
    const conv = () =>
      tf.tidy(() => {
        const x = tensor([16, 16, 16, 32], 7);
        const filter = tensor([3, 3, 32, 32], 8);
        const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, "same");
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"))),
        )([x, filter]);
        return [y, dx, dw].map((t) => t.dataSync() as Float32Array);
      });
    const before = setNativeThreads(1);
    try {
      const one = { big: product(400), conv: conv() };
      setNativeThreads(3);
      const three = { big: product(400), conv: conv() };
      expect(three.big).toEqual(one.big);
      three.conv.forEach((values, i) => expect(values).toEqual(one.conv[i]));
      // The first 5 rows of a 400-row product are the 5-row product's, bit for bit.
      expect(product(5)).toEqual(one.big.subarray(0, 5 * 200));
    } finally {
      setNativeThreads(before);
    }
  });

  nativeTest(
    "data-parallel replicas share the cores: the pool shrinks while they run",
    async () => {
      const before = setNativeThreads(2);
      try {
        // Native kernels or not, training defaults to a replica per core (at most 4).
        expect(defaultReplicas()).toBe(Math.min(4, os.availableParallelism()));
        const trainer = await DataParallelTrainer.create({
          replicas: 2,
          model: {
            module: path.resolve(__dirname, "../../dist/src/backend/referenceConvNet.js"),
            exportName: "createReferenceConvNet",
            options: { seed: 7 },
          },
          optimizer: { name: "adam", learningRate: 1e-3 },
          backend: "wasm",
        });
        expect(loadNativeKernels().threads).toBe(1);
        await trainer.dispose();
        expect(loadNativeKernels().threads).toBe(2);
      } finally {
        setNativeThreads(before);
      }
    },
  );

  test("an addon built for another CPU is refused with the command that rebuilds it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-native-"));
    try {
      const release = path.join(dir, "native", "build", "Release");
      fs.mkdirSync(release, { recursive: true });
      fs.copyFileSync(
        path.join(__dirname, "..", "..", "native", "cpuIdentity.js"),
        path.join(dir, "native", "cpuIdentity.js"),
      );
      const addon = path.join(release, "fairdiff_native.node");
      expect(builtForAnotherCpu(addon)).toMatch(/records no CPU.*npm run build:native/);
      const { cpuIdentity } = require(path.join(dir, "native", "cpuIdentity.js"));
      const here = cpuIdentity();
      const record = (identity: object) =>
        fs.writeFileSync(path.join(release, "built-for.json"), JSON.stringify(identity));
      record(here);
      expect(builtForAnotherCpu(addon)).toBeUndefined();
      record({ ...here, flags: "0000000000000000" });
      expect(builtForAnotherCpu(addon)).toMatch(/built for another CPU.*npm run build:native/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an addon built from an older checkout is found out by the functions it lacks", () => {
    const stale = { gemm() {}, setThreads() {}, vectorFloats() {} };
    expect(missingAddonFunctions(stale)).toEqual(
      expect.arrayContaining(["normForward", "activationForward", "activationBackward"]),
    );
    expect(missingAddonFunctions(stale)).not.toContain("gemm");
    if (built) expect(missingAddonFunctions(loadNativeKernels().addon as object)).toEqual([]);
  });

  test("FAIRDIFF_NATIVE and FAIRDIFF_THREADS: bad values name the variable", () => {
    const saved = { native: process.env.FAIRDIFF_NATIVE, threads: process.env.FAIRDIFF_THREADS };
    try {
      for (const [text, want] of [
        ["", "auto"],
        ["OFF", "off"],
        ["0", "off"],
        ["on", "on"],
      ] as const) {
        process.env.FAIRDIFF_NATIVE = text;
        expect(nativeRequestFromEnvironment()).toBe(want);
      }
      process.env.FAIRDIFF_NATIVE = "fast";
      expect(() => nativeRequestFromEnvironment()).toThrow(/FAIRDIFF_NATIVE must be .*got "fast"/);
      process.env.FAIRDIFF_THREADS = "3";
      expect(nativeThreadsFromEnvironment()).toBe(3);
      for (const bad of ["0", "65", "two"]) {
        process.env.FAIRDIFF_THREADS = bad;
        expect(() => nativeThreadsFromEnvironment()).toThrow(
          new RegExp(`FAIRDIFF_THREADS must be an integer from 1 to 64, got "${bad}"`),
        );
      }
    } finally {
      for (const [key, value] of [
        ["FAIRDIFF_NATIVE", saved.native],
        ["FAIRDIFF_THREADS", saved.threads],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  nativeTest("FAIRDIFF_NATIVE=off keeps tfjs-wasm's kernels and says so", () => {
    const script = `
      const { useBackend, describeBackend } = require("./dist/src/backend");
      useBackend("wasm").then((info) => console.log(JSON.stringify({
        text: describeBackend(info), kernels: info.addedKernels })));`;
    const out = child.execFileSync(process.execPath, ["-e", script], {
      cwd: path.join(__dirname, "..", ".."),
      env: { ...process.env, FAIRDIFF_NATIVE: "off" },
      encoding: "utf8",
    });
    const result = JSON.parse(out.trim().split("\n").pop() as string);
    expect(result.text).toContain("native kernels off (FAIRDIFF_NATIVE=off)");
    expect(result.kernels.some((k: string) => k.endsWith("(native)"))).toBe(false);
  });
});
