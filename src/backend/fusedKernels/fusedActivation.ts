/**
 * SiLU and GELU as one kernel forward and one backward, instead of the 2–6 elementwise kernels
 * each way that composing them from tfjs ops records (every one a full pass through the engine,
 * which on a small model costs more than its arithmetic). GELU is the tanh form written as a
 * logistic, ½x(1 + tanh(u)) = x·σ(2u) with u = √(2/π)(x + 0.044715x³): tfjs-wasm's Sigmoid is
 * XNNPACK's vectorised kernel, its Tanh a scalar loop 10–20× slower.
 *
 * On wasm and cpu the kernels are composed inside one kernel from the backend's own elementwise
 * kernels (each one of XNNPACK's vectorised loops on wasm); the native kernels replace them on
 * wasm with one vectorised pass (nativeKernels/nativeActivation.ts), and WebGPU runs one WGSL
 * dispatch each way (webgpuKernels/fusedActivation.ts). The backward kernel recomputes σ from x
 * rather than saving it: one more cheap pass, one less tensor held for the whole backward.
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { registerOnBackends, type FusedBackend } from "./fusedGradient";

export const FUSED_ACTIVATION = "FairdiffActivation";
export const FUSED_ACTIVATION_GRAD = "FairdiffActivationGrad";

export type ActivationName = "silu" | "gelu";
export const ACTIVATIONS: readonly ActivationName[] = ["silu", "gelu"];

export interface ActivationAttrs {
  activation: ActivationName;
}

/** GELU's logistic form: σ(v) with v = x·(c + c·k·x²), c = 2√(2/π), k = 0.044715. */
export const GELU_SCALE = 2 * Math.sqrt(2 / Math.PI);
export const GELU_CUBIC = 0.044715;

export function checkActivation(activation: unknown): ActivationName {
  if (!ACTIVATIONS.includes(activation as ActivationName)) {
    throw new Error(
      `fused activation: activation must be one of ${ACTIVATIONS.join(", ")}, got ${String(activation)}`,
    );
  }
  return activation as ActivationName;
}

/** The logistic's argument: x for SiLU, v(x) for GELU (with x², which GELU's backward reuses). */
function logisticArgument(
  scope: KernelScope,
  x: TensorInfo,
  activation: ActivationName,
): { argument: TensorInfo; square?: TensorInfo } {
  if (activation === "silu") return { argument: x };
  const square = scope.run("Square", { x });
  const slope = scope.run("Add", {
    a: scope.run("Multiply", { a: square, b: scope.scalar(GELU_SCALE * GELU_CUBIC) }),
    b: scope.scalar(GELU_SCALE),
  });
  return { argument: scope.run("Multiply", { a: x, b: slope }), square };
}

function forward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs as Record<string, TensorInfo>;
    const activation = checkActivation((attrs as unknown as ActivationAttrs).activation);
    const scope = KernelScope.of(backend, backendName);
    const s = scope.run("Sigmoid", { x: logisticArgument(scope, x, activation).argument });
    return scope.close(scope.run("Multiply", { a: x, b: s }));
  };
}

/**
 * SiLU: d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))).
 * GELU: d/dx x·σ(v) = σ(v) + x·σ(v)(1 − σ(v))·v′, v′ = c(1 + 3k·x²).
 */
function backward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x } = inputs as Record<string, TensorInfo>;
    const activation = checkActivation((attrs as unknown as ActivationAttrs).activation);
    const scope = KernelScope.of(backend, backendName);
    const { argument, square } = logisticArgument(scope, x, activation);
    const s = scope.run("Sigmoid", { x: argument });
    // x·σ·(1 − σ) = x·σ − x·σ²
    const xs = scope.run("Multiply", { a: x, b: s });
    let curve = scope.run("Sub", { a: xs, b: scope.run("Multiply", { a: xs, b: s }) });
    if (square) {
      const dv = scope.run("Add", {
        a: scope.run("Multiply", { a: square, b: scope.scalar(3 * GELU_SCALE * GELU_CUBIC) }),
        b: scope.scalar(GELU_SCALE),
      });
      curve = scope.run("Multiply", { a: curve, b: dv });
    }
    const slope = scope.run("Add", { a: s, b: curve });
    return scope.close(scope.run("Multiply", { a: dy, b: slope }));
  };
}

/** The composed kernels on wasm and cpu (registered by registerFusedKernels). */
export function registerComposedActivation(): string[] {
  registerOnBackends(FUSED_ACTIVATION, ["wasm", "cpu"], forward);
  registerOnBackends(FUSED_ACTIVATION_GRAD, ["wasm", "cpu"], backward);
  return [FUSED_ACTIVATION, FUSED_ACTIVATION_GRAD];
}
