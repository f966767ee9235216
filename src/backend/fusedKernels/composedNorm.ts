/**
 * The fused normalisation kernels (fusedNorm.ts) on the CPU backends, composed inside one kernel
 * from the backend's own kernels, so the engine still sees, records and dispatches one kernel.
 *
 * Every large pass is one the wasm backend runs as vectorised code: reductions only over the
 * innermost axis ([rows, spatial, groups, perGroup] → [rows, spatial, groups] → [rows, 1, groups]),
 * statistics spread back to channels on small tensors, and every large broadcast along whole
 * trailing blocks ([rows, spatial, C] with [rows, 1, C] or [C]). tfjs-wasm runs a reduction over
 * non-innermost axes with a transpose and a broadcast like [rows, 1, groups, 1] with a strided
 * scalar loop, 3–5× slower per element (measured on [64, 8, 8, 64], the UNet's largest).
 * Statistics are two-pass (mean, then the mean of squared deviations) for float32 accuracy.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { FUSED_ACTIVATION, FUSED_ACTIVATION_GRAD } from "./fusedActivation";
import { registerOnBackends, type FusedBackend } from "./fusedGradient";
import {
  FUSED_NORM,
  FUSED_NORM_GRAD,
  normLayout,
  type NormAttrs,
  type NormLayout,
} from "./fusedNorm";

const BACKENDS = ["wasm", "cpu"] as const;

/** The SiLU after the norm: the activation's own kernels (fusedActivation.ts). */
const SILU = { activation: "silu" };

/** Σ over each (row, group) of t [rows, spatial, C] → [rows, 1, groups]: two innermost-axis sums. */
function groupSums(scope: KernelScope, t: TensorInfo, l: NormLayout): TensorInfo {
  const grouped = scope.reshape(t, [l.rows, l.spatial, l.groups, l.perGroup]);
  const overChannels = scope.run("Sum", { x: grouped }, { axis: [3], keepDims: false });
  if (l.spatial === 1) return overChannels;
  return scope.run("Sum", { x: overChannels }, { axis: [1], keepDims: true });
}

/** A per-(row, group) value [rows, 1, groups] repeated over the group's channels: [rows, 1, C]. */
function perChannel(scope: KernelScope, t: TensorInfo, l: NormLayout, zeros: TensorInfo) {
  if (l.perGroup === 1) return t;
  const spread = scope.run("Add", { a: scope.reshape(t, [l.rows, 1, l.groups, 1]), b: zeros });
  return scope.reshape(spread, [l.rows, 1, l.channels]);
}

/** x − μ and 1/σ per (row, channel), in the [rows, spatial, C] layout. */
function statistics(scope: KernelScope, x: TensorInfo, attrs: NormAttrs) {
  const l = normLayout(x.shape, attrs);
  const x3 = scope.reshape(x, [l.rows, l.spatial, l.channels]);
  const zeros = scope.fill([1, 1, l.groups, l.perGroup], 0);
  const count = scope.scalar(1 / (l.spatial * l.perGroup));
  const mean = scope.run("Multiply", { a: groupSums(scope, x3, l), b: count });
  const centered = scope.run("Sub", { a: x3, b: perChannel(scope, mean, l, zeros) });
  const squares = scope.run("Square", { x: centered });
  const variance = scope.run("Multiply", { a: groupSums(scope, squares, l), b: count });
  const rstd = scope.run("Rsqrt", {
    x: scope.run("Add", { a: variance, b: scope.scalar(attrs.epsilon) }),
  });
  return { l, zeros, count, centered, rstd: perChannel(scope, rstd, l, zeros) };
}

function forward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as NormAttrs;
    const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
    const scope = KernelScope.of(backend, backendName);
    const { centered, rstd } = statistics(scope, x, a);
    const scale = scope.run("Multiply", { a: rstd, b: gamma });
    let y = scope.run("Add", { a: scope.run("Multiply", { a: centered, b: scale }), b: beta });
    if (a.silu) y = scope.run(FUSED_ACTIVATION, { x: y }, SILU);
    return scope.close(scope.reshape(y, x.shape));
  };
}

function backward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as NormAttrs;
    const { dy, x, gamma, beta } = inputs as Record<string, TensorInfo>;
    const scope = KernelScope.of(backend, backendName);
    const { l, zeros, count, centered, rstd } = statistics(scope, x, a);
    const xHat = scope.run("Multiply", { a: centered, b: rstd });
    let upstream = scope.reshape(dy, [l.rows, l.spatial, l.channels]);
    if (a.silu) {
      const pre = scope.run("Add", { a: scope.run("Multiply", { a: xHat, b: gamma }), b: beta });
      upstream = scope.run(FUSED_ACTIVATION_GRAD, { dy: upstream, x: pre }, SILU);
    }
    // dβ, dγ: sums over rows and positions.
    const positions = l.rows * l.spatial;
    const overPositions = (t: TensorInfo) =>
      scope.reshape(scope.sumRows(t, 1, positions, l.channels), [l.channels]);
    const upstreamX = scope.run("Multiply", { a: upstream, b: xHat });
    const dBeta = overPositions(upstream);
    const dGamma = overPositions(upstreamX);
    // Group means of g = da·γ and of g·x̂.
    const groupMean = (t: TensorInfo) =>
      perChannel(scope, scope.run("Multiply", { a: groupSums(scope, t, l), b: count }), l, zeros);
    const g = scope.run("Multiply", { a: upstream, b: gamma });
    const meanG = groupMean(g);
    const meanGX = groupMean(scope.run("Multiply", { a: upstreamX, b: gamma }));
    const inner = scope.run("Sub", {
      a: scope.run("Sub", { a: g, b: meanG }),
      b: scope.run("Multiply", { a: xHat, b: meanGX }),
    });
    const dx = scope.reshape(scope.run("Multiply", { a: inner, b: rstd }), x.shape);
    return scope.closeKeeping([dx, dGamma, dBeta]);
  };
}

export function registerComposedNorm(): string[] {
  registerOnBackends(FUSED_NORM, BACKENDS, forward);
  registerOnBackends(FUSED_NORM_GRAD, BACKENDS, backward);
  return [FUSED_NORM, FUSED_NORM_GRAD];
}
