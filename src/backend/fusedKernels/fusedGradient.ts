/**
 * The two registrations every fused op needs: its kernels on the backends it runs on, and a
 * gradient that runs its backward kernel once and hands each input its share of the outputs.
 */
import {
  engine,
  registerGradient,
  registerKernel,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorMap,
  type Tensor,
} from "@tensorflow/tfjs-core";

export type FusedBackend = "wasm" | "cpu" | "webgpu";

/** Registers `kernelFuncOf(backend)` as `kernelName` on each backend. */
export function registerOnBackends(
  kernelName: string,
  backends: readonly FusedBackend[],
  kernelFuncOf: (backendName: FusedBackend) => KernelFunc,
): void {
  for (const backendName of backends) {
    registerKernel({ kernelName, backendName, kernelFunc: kernelFuncOf(backendName) });
  }
}

export interface FusedGradient {
  /** The forward kernel. */
  kernelName: string;
  /** The backward kernel: inputs dy and the saved inputs by name; one output per `gradients`. */
  gradKernelName: string;
  /** Forward inputs the backward reads (an absent optional input is skipped). */
  inputsToSave: string[];
  /** Forward inputs that get a gradient, in the order of the backward kernel's outputs. */
  gradients: string[];
  /** Forward inputs that never carry a trained value (a mask): zero gradient. */
  constants?: string[];
}

export function registerFusedGradient(spec: FusedGradient): void {
  registerGradient({
    kernelName: spec.kernelName,
    inputsToSave: spec.inputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const inputs: NamedTensorMap = { dy: dy as Tensor };
      spec.inputsToSave.forEach((name, i) => {
        if (saved[i]) inputs[name] = saved[i];
      });
      // Run once, now (inside the engine's backward scope): the closures share the result, and
      // outputs the engine does not ask for (an absent bias) are freed with that scope.
      const result = engine().runKernel(spec.gradKernelName, inputs, attrs as NamedAttrMap) as
        Tensor | Tensor[];
      // A one-output backward kernel may return its tensor alone.
      const outputs = Array.isArray(result) ? result : [result];
      const closures: Record<string, () => Tensor> = {};
      spec.gradients.forEach((name, i) => (closures[name] = () => outputs[i]));
      for (const name of spec.constants ?? []) closures[name] = () => inputs[name].zerosLike();
      return closures;
    },
  });
}

export interface FusedOpWithAddend {
  kernelName: string;
  /** The same op with one more input, added to its output inside the kernel. */
  addendKernelName: string;
  addendInput: string;
  gradKernelName: string;
  backends: readonly FusedBackend[];
  /** Serves both forward names (the addend, when given, is one more input). */
  forward: (backendName: FusedBackend) => KernelFunc;
  /** Returns the addend's gradient last when the forward had one (told by its attributes). */
  backward: (backendName: FusedBackend) => KernelFunc;
  inputsToSave: string[];
  gradients: string[];
}

/** Registers a fused op and its with-addend variant: kernels on every backend, both gradients. */
export function registerFusedOpWithAddend(spec: FusedOpWithAddend): void {
  registerOnBackends(spec.kernelName, spec.backends, spec.forward);
  registerOnBackends(spec.addendKernelName, spec.backends, spec.forward);
  registerOnBackends(spec.gradKernelName, spec.backends, spec.backward);
  const shared = { gradKernelName: spec.gradKernelName, inputsToSave: spec.inputsToSave };
  registerFusedGradient({ ...shared, kernelName: spec.kernelName, gradients: spec.gradients });
  registerFusedGradient({
    ...shared,
    kernelName: spec.addendKernelName,
    gradients: [...spec.gradients, spec.addendInput],
  });
}
