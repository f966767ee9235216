/**
 * The fused normalisation kernels (fusedKernels/fusedNorm.ts) in WGSL. Forward: a statistics
 * pass (mean, rstd per row and group) and an elementwise pass. Backward: a statistics pass (mean,
 * rstd, mean(g), mean(g·x̂) per row and group), an elementwise dx pass, and one pass each for
 * dγ and dβ (one invocation per channel). Each invocation of a statistics pass loops over its
 * group: simple, and exact enough for the equivalence tests; a workgroup reduction is the next
 * step for speed on large groups.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { FUSED_NORM, FUSED_NORM_GRAD, normLayout, type NormAttrs } from "../fusedKernels/fusedNorm";
import { elementwiseProgram, type ProgramUniform, type WebgpuBackendLike } from "./webgpuProgram";

const UNIFORMS =
  "rows : i32, spatial : i32, channels : i32, groups : i32, perGroup : i32, epsilon : f32, silu : i32,";

/** Mean and rstd of group k (row k / groups, group k % groups) of `x`. */
const GROUP_STATISTICS = `
  fn groupBase(k : i32) -> i32 {
    return (k / uniforms.groups) * uniforms.spatial * uniforms.channels +
        (k % uniforms.groups) * uniforms.perGroup;
  }
  fn groupStatistics(k : i32) -> vec2<f32> {
    let base = groupBase(k);
    let count = f32(uniforms.spatial * uniforms.perGroup);
    var sum = 0.0;
    for (var s = 0; s < uniforms.spatial; s++) {
      let offset = base + s * uniforms.channels;
      for (var c = 0; c < uniforms.perGroup; c++) { sum += x[offset + c]; }
    }
    let mean = sum / count;
    var squares = 0.0;
    for (var s = 0; s < uniforms.spatial; s++) {
      let offset = base + s * uniforms.channels;
      for (var c = 0; c < uniforms.perGroup; c++) {
        let d = x[offset + c] - mean;
        squares += d * d;
      }
    }
    return vec2<f32>(mean, inverseSqrt(squares / count + uniforms.epsilon));
  }
`;

/** The gradient reaching the affine output a = x̂·γ + β (through the SiLU when there is one). */
const UPSTREAM = `
  fn upstream(i : i32, channel : i32, xHat : f32) -> f32 {
    var d = dy[i];
    if (uniforms.silu == 1) {
      let a = xHat * gamma[channel] + beta[channel];
      let s = 1.0 / (1.0 + exp(-a));
      d = d * s * (1.0 + a * (1.0 - s));
    }
    return d;
  }
  fn groupOf(i : i32) -> i32 {
    let row = i / (uniforms.spatial * uniforms.channels);
    return row * uniforms.groups + (i % uniforms.channels) / uniforms.perGroup;
  }
`;

function uniformsOf(shape: number[], attrs: NormAttrs): ProgramUniform[] {
  const l = normLayout(shape, attrs);
  const ints = [l.rows, l.spatial, l.channels, l.groups, l.perGroup].map((v) => ({
    type: "int32" as const,
    data: [v],
  }));
  return [
    ...ints,
    { type: "float32", data: [attrs.epsilon] },
    { type: "int32", data: [attrs.silu ? 1 : 0] },
  ];
}

const forward: KernelFunc = ({ inputs, backend, attrs }) => {
  const webgpu = backend as unknown as WebgpuBackendLike;
  const a = attrs as unknown as NormAttrs;
  const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const l = normLayout(x.shape, a);
  const uniforms = uniformsOf(x.shape, a);
  const statistics = webgpu.runWebGPUProgram(
    elementwiseProgram(
      "fairdiffNormStatistics",
      ["x"],
      [l.rows * l.groups * 2],
      UNIFORMS,
      `let st = groupStatistics(index / 2);
         if (index % 2 == 0) { setOutputAtIndex(index, st.x); } else { setOutputAtIndex(index, st.y); }`,
      GROUP_STATISTICS,
    ),
    [x],
    "float32",
    uniforms,
  );
  const y = webgpu.runWebGPUProgram(
    elementwiseProgram(
      `fairdiffNormApply_${x.shape.length}`,
      ["x", "gamma", "beta", "statistics"],
      x.shape,
      UNIFORMS,
      `let channel = index % uniforms.channels;
       let row = index / (uniforms.spatial * uniforms.channels);
       let k = row * uniforms.groups + channel / uniforms.perGroup;
       let a = (x[index] - statistics[2 * k]) * statistics[2 * k + 1] * gamma[channel] + beta[channel];
       var y = a;
       if (uniforms.silu == 1) { y = a / (1.0 + exp(-a)); }
       setOutputAtIndex(index, y);`,
    ),
    [x, gamma, beta, statistics],
    "float32",
    uniforms,
  );
  webgpu.disposeData(statistics.dataId);
  return y;
};

const backward: KernelFunc = ({ inputs, backend, attrs }) => {
  const webgpu = backend as unknown as WebgpuBackendLike;
  const a = attrs as unknown as NormAttrs;
  const { dy, x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const l = normLayout(x.shape, a);
  const uniforms = uniformsOf(x.shape, a);
  const names = ["dy", "x", "gamma", "beta"];
  // Per group: mean, rstd, mean(g), mean(g·x̂).
  const statistics = webgpu.runWebGPUProgram(
    elementwiseProgram(
      "fairdiffNormGradStatistics",
      names,
      [l.rows * l.groups * 4],
      UNIFORMS,
      `let k = index / 4;
         let which = index % 4;
         let st = groupStatistics(k);
         if (which < 2) {
           if (which == 0) { setOutputAtIndex(index, st.x); } else { setOutputAtIndex(index, st.y); }
         } else {
           let base = groupBase(k);
           let count = f32(uniforms.spatial * uniforms.perGroup);
           var sumG = 0.0;
           var sumGX = 0.0;
           for (var s = 0; s < uniforms.spatial; s++) {
             let offset = base + s * uniforms.channels;
             for (var c = 0; c < uniforms.perGroup; c++) {
               let channel = (k % uniforms.groups) * uniforms.perGroup + c;
               let xHat = (x[offset + c] - st.x) * st.y;
               let g = upstream(offset + c, channel, xHat) * gamma[channel];
               sumG += g;
               sumGX += g * xHat;
             }
           }
           if (which == 2) { setOutputAtIndex(index, sumG / count); } else { setOutputAtIndex(index, sumGX / count); }
         }`,
      GROUP_STATISTICS + UPSTREAM,
    ),
    [dy, x, gamma, beta],
    "float32",
    uniforms,
  );
  const withStatistics = [...names, "statistics"];
  const dx = webgpu.runWebGPUProgram(
    elementwiseProgram(
      `fairdiffNormGradX_${x.shape.length}`,
      withStatistics,
      x.shape,
      UNIFORMS,
      `let channel = index % uniforms.channels;
         let k = groupOf(index);
         let rstd = statistics[4 * k + 1];
         let xHat = (x[index] - statistics[4 * k]) * rstd;
         let g = upstream(index, channel, xHat) * gamma[channel];
         setOutputAtIndex(index, rstd * (g - statistics[4 * k + 2] - xHat * statistics[4 * k + 3]));`,
      UPSTREAM,
    ),
    [dy, x, gamma, beta, statistics],
    "float32",
    uniforms,
  );
  // dγ (which 0) and dβ (which 1): one invocation per channel, over every row and position.
  const parameterGradient = (which: 0 | 1) =>
    webgpu.runWebGPUProgram(
      elementwiseProgram(
        `fairdiffNormGradParameter_${which}`,
        withStatistics,
        [l.channels],
        UNIFORMS,
        `let channel = index;
           let group = channel / uniforms.perGroup;
           var sum = 0.0;
           for (var row = 0; row < uniforms.rows; row++) {
             let k = row * uniforms.groups + group;
             for (var s = 0; s < uniforms.spatial; s++) {
               let i = (row * uniforms.spatial + s) * uniforms.channels + channel;
               let xHat = (x[i] - statistics[4 * k]) * statistics[4 * k + 1];
               let d = upstream(i, channel, xHat);
               ${which === 0 ? "sum += d * xHat;" : "sum += d;"}
             }
           }
           setOutputAtIndex(index, sum);`,
        UPSTREAM,
      ),
      [dy, x, gamma, beta, statistics],
      "float32",
      uniforms,
    );
  const dGamma = parameterGradient(0);
  const dBeta = parameterGradient(1);
  webgpu.disposeData(statistics.dataId);
  return [dx, dGamma, dBeta];
};

export const fusedNormWebgpuConfigs: KernelConfig[] = [
  { kernelName: FUSED_NORM, backendName: "webgpu", kernelFunc: forward },
  { kernelName: FUSED_NORM_GRAD, backendName: "webgpu", kernelFunc: backward },
];
