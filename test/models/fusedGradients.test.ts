/**
 * The hand-written gradients (SiLU, GELU, LayerNorm, GroupNorm, transpose-free matMul, affine
 * map) against autodiff through plain tfjs reference formulas, on cpu and on wasm.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { gelu, silu } from "../../src/models/activations";
import { affineMap, matMul } from "../../src/models/matMul";
import { GroupNorm, LayerNorm } from "../../src/models/normalization";
import { maxAbsDifference, seededTensor } from "./tinyModels";

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

/** Values and gradients (of a random projection of the output) of two implementations. */
function compare(fast: Fn, reference: Fn, inputs: tf.Tensor[]): { value: number; grad: number } {
  return tf.tidy(() => {
    const outShape = reference(...inputs).shape;
    const projection = seededTensor(outShape, 99);
    const loss =
      (f: Fn) =>
      (...xs: tf.Tensor[]) =>
        tf.sum(tf.mul(f(...xs), projection)) as tf.Scalar;
    const fastGrads = tf.grads(loss(fast))(inputs);
    const refGrads = tf.grads(loss(reference))(inputs);
    let grad = 0;
    fastGrads.forEach(
      (g, i) => (grad = Math.max(grad, maxAbsDifference(g.dataSync(), refGrads[i].dataSync()))),
    );
    return {
      value: maxAbsDifference(fast(...inputs).dataSync(), reference(...inputs).dataSync()),
      grad,
    };
  });
}

function referenceNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  groupedShape: number[],
  axes: number[],
) {
  const grouped = x.reshape(groupedShape);
  const { mean, variance } = tf.moments(grouped, axes, true);
  const normalized = tf
    .div(tf.sub(grouped, mean), tf.sqrt(tf.add(variance, 1e-5)))
    .reshape(x.shape);
  return tf.add(tf.mul(normalized, gamma), beta);
}

for (const backend of ["cpu", "wasm"] as const)
  describe(`hand-written gradients match autodiff (${backend})`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    test("SiLU and GELU", () => {
      const x = seededTensor([3, 7], 1, 3);
      const s = compare(silu, (v) => tf.mul(v, tf.sigmoid(v)), [x]);
      const geluReference = (v: tf.Tensor) =>
        tf.mul(
          tf.mul(v, 0.5),
          tf.add(
            1,
            tf.tanh(tf.mul(tf.add(v, tf.mul(tf.pow(v, 3), 0.044715)), Math.sqrt(2 / Math.PI))),
          ),
        );
      const g = compare(gelu, geluReference, [x]);
      for (const d of [s, g]) {
        expect(d.value).toBeLessThan(1e-5);
        expect(d.grad).toBeLessThan(1e-4);
      }
    });

    test("GroupNorm and LayerNorm (input, γ and β)", () => {
      const norm = new GroupNorm(2, 6);
      const x = seededTensor([2, 3, 3, 6], 2, 2);
      const gamma = seededTensor([6], 3);
      const beta = seededTensor([6], 4);
      norm.setWeights({
        gamma: gamma.dataSync() as Float32Array,
        beta: beta.dataSync() as Float32Array,
      });
      const groupDiff = compare(
        (xv) => norm.apply(xv as tf.Tensor4D),
        (xv) => referenceNorm(xv, gamma, beta, [2, 3, 3, 2, 3], [1, 2, 4]),
        [x],
      );
      expect(groupDiff.value).toBeLessThan(1e-4);
      expect(groupDiff.grad).toBeLessThan(1e-3);

      // γ/β gradients of the fused op itself, through variableGrads.
      const projection = seededTensor([2, 3, 3, 6], 5);
      const fastVarGrads = tf.variableGrads(
        () => tf.sum(tf.mul(norm.apply(x as tf.Tensor4D), projection)) as tf.Scalar,
        [norm.gamma, norm.beta],
      ).grads;
      const refGrads = tf.grads((gv: tf.Tensor, bv: tf.Tensor) =>
        tf.sum(tf.mul(referenceNorm(x, gv, bv, [2, 3, 3, 2, 3], [1, 2, 4]), projection)),
      )([gamma, beta]);
      expect(
        maxAbsDifference(fastVarGrads[norm.gamma.name].dataSync(), refGrads[0].dataSync()),
      ).toBeLessThan(1e-3);
      expect(
        maxAbsDifference(fastVarGrads[norm.beta.name].dataSync(), refGrads[1].dataSync()),
      ).toBeLessThan(1e-3);
      norm.dispose();

      const layer = new LayerNorm(5);
      const y = seededTensor([2, 4, 5], 6, 3);
      const layerDiff = compare(
        (v) => layer.apply(v),
        (v) => referenceNorm(v, tf.ones([5]), tf.zeros([5]), [8, 5], [1]),
        [y],
      );
      expect(layerDiff.value).toBeLessThan(1e-4);
      expect(layerDiff.grad).toBeLessThan(1e-3);
      layer.dispose();
    });

    test("transpose-free matMul (rank 2 and 4, transposed b) and the affine map", () => {
      const a = seededTensor([5, 4], 7);
      const b = seededTensor([4, 3], 8);
      const bias = seededTensor([3], 9);
      const plain = compare(
        (p, q) => matMul(p, q),
        (p, q) => tf.matMul(p, q),
        [a, b],
      );
      const affine = compare(
        (p, q, r) => affineMap(p as tf.Tensor2D, q, r),
        (p, q, r) => tf.add(tf.matMul(p, q), r),
        [a, b, bias],
      );
      const q4 = seededTensor([2, 3, 5, 4], 10);
      const k4 = seededTensor([2, 3, 6, 4], 11);
      const batched = compare(
        (p, q) => matMul(p, q, true),
        (p, q) => tf.matMul(p, q, false, true),
        [q4, k4],
      );
      for (const d of [plain, affine, batched]) {
        expect(d.value).toBeLessThan(1e-5);
        expect(d.grad).toBeLessThan(1e-4);
      }
      expect(() => matMul(a, seededTensor([1, 4, 3], 1))).toThrow(/equal batch axes/);
    });
  });
