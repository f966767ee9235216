/**
 * Gradients through a whole deterministic DDIM sampling chain z_T → … → z_0 (direct fine-tuning
 * of the sampler, Shen et al., ICLR 2024), with memory that does not grow with the number of steps.
 *
 * Each DDIM step (η = 0) is affine in its input and the network output:
 *   z_{k+1} = A_k·z_k + B_k·ε_k,   ε_k = ε_θ(z_k, t_k; c).
 * Unrolled with the network inputs held fixed, z_0 = (∏A)·z_T + Σ_k C_k·ε_k with the "direct"
 * coefficients C_k = B_k·∏_{j>k} A_j. For DDIM ending at ᾱ = 1 this is C_k = ρ(t_{k+1}) − ρ(t_k),
 * ρ = √(1−ᾱ)/√ᾱ the noise-to-signal ratio (tested): largest at the noisiest steps. For
 * one-timestep jumps |C_t| ≈ (1−α_t)/(2·√ᾱ_t·√(1−ᾱ_t)), half the DDPM coefficient whose inverse
 * √ᾱ_t·√(1−ᾱ_t)/(1−α_t) Shen et al.'s code scales by; a constant factor only rescales the whole
 * gradient (and Adam is blind to it).
 *
 * - `exact`: the true gradient, including every ∂ε/∂z_t Jacobian. Its norm grows with the number
 *   of steps (products of Jacobians), which is what makes plain direct fine-tuning unstable.
 * - `adjusted`: drop ∂ε/∂z_t (the network input is detached) and give every step the same
 *   coefficient: the gradient reaching ε_k is sign(C_k)·G·g with g = ∂L/∂z_0 and G the geometric
 *   mean of |C_k| over the steps — i.e. C_k rescaled by 1/|C_k|, normalised by the geometric mean of
 *   those scales, as in Shen et al.
 *
 * Checkpointing: the forward pass runs off the tape and keeps only each step's input latents
 * (B×h×w×c floats per step); the backward pass recomputes one step at a time on its own tape and
 * takes its vector–Jacobian product. Peak memory is one network step's activations, whatever the
 * number of steps. (A manual reverse sweep rather than tf.customGrad: no captured-variable or
 * nested-tape pitfalls, and the same numbers — tested against one tape through the whole chain.)
 *
 * Coefficients A_k, B_k are read off the scheduler itself (one probe step on scalars), so they
 * follow its configuration (spacing, prediction type, final ᾱ); a non-affine step (clipSample)
 * is rejected.
 */
import * as tf from "@tensorflow/tfjs-core";
import { ReplayedStep } from "../backend/kernelReplay";
import { replayedPredictor, runSamplingLoop, type NoisePredictor } from "../pipeline/guidedSampler";
import { DDIMScheduler } from "../schedulers/ddimScheduler";
import type { SchedulerConfig } from "../schedulers/schedulerConfig";

/** What the chain needs from a denoiser: the (guided) network output for latents at timestep t. */
export interface ChainDenoiser {
  /** ε̂(z, t; conditioning). `conditioning` is a differentiable input (e.g. text embeddings). */
  predict(z: tf.Tensor4D, t: number, conditioning: tf.Tensor): tf.Tensor4D;
  /**
   * `predict` with the timestep as a [1] tensor, where the denoiser can: the chain then replays
   * its steps as their kernels (kernelReplay.ts), the timestep an input rather than a constant.
   */
  predictAt?(z: tf.Tensor4D, t: tf.Tensor1D, conditioning: tf.Tensor): tf.Tensor4D;
  /** Variables used inside `predict` that receive gradients (e.g. UNet LoRA). */
  readonly variables: tf.Variable[];
}

export type ChainGradientMode = "adjusted" | "exact";

export interface ChainTrace {
  /** z_k, the input of step k (k = 0 is the starting noise). Owned by the trace. */
  inputs: tf.Tensor4D[];
  /** z_0, the chain's output. Owned by the trace. */
  output: tf.Tensor4D;
}

export interface ChainGradients {
  /** ∂⟨cotangent, z_0⟩/∂conditioning. */
  conditioning: tf.Tensor;
  /** ∂⟨cotangent, z_0⟩/∂v for each of the denoiser's variables. */
  variables: tf.Tensor[];
}

export interface BackwardOptions {
  /** Sees each step's contribution [conditioning, ...variables] before it is summed (diagnostics). */
  onStep?: (k: number, contribution: tf.Tensor[]) => void;
  /**
   * Adjusted mode only: back-propagate through these step indices alone, each weighted
   * steps/subset.length — an unbiased estimate of the full adjusted gradient at a fraction of
   * the cost (not in Shen et al.; a CPU budget option).
   */
  subset?: readonly number[];
}

export function disposeTrace(trace: ChainTrace): void {
  tf.dispose(trace.inputs);
  trace.output.dispose();
}

export function disposeChainGradients(gradients: ChainGradients): void {
  gradients.conditioning.dispose();
  tf.dispose(gradients.variables);
}

/** Detaches a tensor from the tape: identity forward, zero gradient. */
const detach = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => ({
  value: (x as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** Identity forward; the gradient passing back is multiplied by `scale`. */
function scaleGradient(x: tf.Tensor, scale: number): tf.Tensor {
  const op = tf.customGrad((input: tf.Tensor | tf.GradSaveFunc) => ({
    value: (input as tf.Tensor).clone(),
    gradFunc: (dy: tf.Tensor) => tf.mul(dy, scale),
  }));
  return op(x);
}

/** Gradients of y = f() w.r.t. xs with output cotangent dy; inputs f does not use get zeros. */
function vectorJacobian(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const { value, grads } = tf.engine().gradients(f, xs, dy, true);
  value.dispose();
  return xs.map((x, i) => grads[i] ?? tf.zerosLike(x));
}

/** Each running sum plus its gradient. */
function added(sums: tf.Tensor[], grads: tf.Tensor[]): tf.Tensor[] {
  return sums.map((s, i) => tf.add(s, grads[i]));
}

/** The denoiser as a sampling loop's predictor: replayed where it takes a tensor timestep. */
function predictor(denoiser: ChainDenoiser, conditioning: tf.Tensor): NoisePredictor {
  const predictAt = denoiser.predictAt?.bind(denoiser);
  return predictAt
    ? replayedPredictor((z, t) => predictAt(z, t, conditioning))
    : (z, t) => denoiser.predict(z, t, conditioning);
}

export class DdimSamplingChain {
  readonly scheduler: DDIMScheduler;
  readonly timesteps: number[];
  /** A_k: coefficient of z_k in z_{k+1}. */
  readonly sampleCoefficients: Float64Array;
  /** B_k: coefficient of the network output ε_k in z_{k+1}. */
  readonly outputCoefficients: Float64Array;
  /** C_k = ∂z_0/∂ε_k with the network inputs held fixed. */
  readonly directCoefficients: Float64Array;
  /** The coefficient every step's ε gets in `adjusted` mode: sign(C_k)·geomean|C|. */
  readonly adjustedCoefficients: Float64Array;

  /**
   * Builds the chain for `steps` DDIM steps. Async: the step's affine coefficients are read back
   * from the backend with `data()`, which WebGPU allows (a synchronous read would not).
   */
  static async create(
    steps: number,
    noise: Partial<SchedulerConfig> = {},
  ): Promise<DdimSamplingChain> {
    const scheduler = new DDIMScheduler({ ...noise, eta: 0 });
    scheduler.setTimesteps(steps);
    const timesteps = Array.from(scheduler.timesteps);
    // Probe (z, ε) = (1, 0), (0, 1), (1, 1) at every step: A, B, and A + B if the step is affine.
    const probes = tf.tidy(() => {
      const z = tf.tensor4d([1, 0, 1], [3, 1, 1, 1]);
      const e = tf.tensor4d([0, 1, 1], [3, 1, 1, 1]);
      return tf.concat(timesteps.map((t) => scheduler.step(e, t, z).prevSample));
    });
    const values = await probes.data();
    probes.dispose();
    const sampleCoefficients = new Float64Array(timesteps.length);
    const outputCoefficients = new Float64Array(timesteps.length);
    timesteps.forEach((t, k) => {
      const [a, b, both] = values.subarray(3 * k, 3 * k + 3);
      if (Math.abs(a + b - both) > 1e-4 * Math.max(1, Math.abs(both))) {
        throw new Error(
          `the sampler step at t=${t} is not affine in (z, ε) (clipSample on?): adjusted gradients need an affine step`,
        );
      }
      sampleCoefficients[k] = a;
      outputCoefficients[k] = b;
    });
    return new DdimSamplingChain(scheduler, timesteps, sampleCoefficients, outputCoefficients);
  }

  private constructor(
    scheduler: DDIMScheduler,
    timesteps: number[],
    sampleCoefficients: Float64Array,
    outputCoefficients: Float64Array,
  ) {
    this.scheduler = scheduler;
    this.timesteps = timesteps;
    this.sampleCoefficients = sampleCoefficients;
    this.outputCoefficients = outputCoefficients;
    const n = timesteps.length;
    this.directCoefficients = new Float64Array(n);
    let later = 1;
    for (let k = n - 1; k >= 0; k--) {
      this.directCoefficients[k] = this.outputCoefficients[k] * later;
      later *= this.sampleCoefficients[k];
    }
    let logSum = 0;
    for (const c of this.directCoefficients) logSum += Math.log(Math.abs(c));
    const geometricMean = Math.exp(logSum / n);
    this.adjustedCoefficients = this.directCoefficients.map((c) => Math.sign(c) * geometricMean);
  }

  get steps(): number {
    return this.timesteps.length;
  }

  private stepAt(k: number, denoiser: ChainDenoiser, z: tf.Tensor4D, c: tf.Tensor): tf.Tensor4D {
    const t = this.timesteps[k];
    return tf.tidy(
      () => this.scheduler.step(denoiser.predict(z, t, c), t, z).prevSample as tf.Tensor4D,
    );
  }

  /** Samples z_0 from `start` off the tape, keeping every step's input for the backward pass. */
  run(denoiser: ChainDenoiser, start: tf.Tensor4D, conditioning: tf.Tensor): ChainTrace {
    const inputs: tf.Tensor4D[] = [];
    const output = runSamplingLoop(this.scheduler, start, predictor(denoiser, conditioning), {
      onStep: (_k, _t, z) => inputs.push(z.clone()),
    });
    return { inputs, output };
  }

  /** z_0 only (no trace kept); with `steps`, the input of step `steps` (what the trace keeps there). */
  sample(
    denoiser: ChainDenoiser,
    start: tf.Tensor4D,
    conditioning: tf.Tensor,
    steps?: number,
  ): tf.Tensor4D {
    return runSamplingLoop(this.scheduler, start, predictor(denoiser, conditioning), { steps });
  }

  /**
   * Gradients of ⟨cotangent, z_0⟩ w.r.t. the conditioning and the denoiser's variables, one
   * recomputed step at a time (see the file comment for the two modes).
   */
  backward(
    denoiser: ChainDenoiser,
    trace: ChainTrace,
    conditioning: tf.Tensor,
    cotangent: tf.Tensor4D,
    mode: ChainGradientMode,
    options: BackwardOptions = {},
  ): ChainGradients {
    if (trace.inputs.length !== this.steps) {
      throw new Error(`trace has ${trace.inputs.length} steps, the chain ${this.steps}`);
    }
    const { onStep, subset } = options;
    if (subset !== undefined) {
      if (mode !== "adjusted") {
        throw new Error("a subset of steps is only an unbiased estimate in adjusted mode");
      }
      if (
        subset.length === 0 ||
        new Set(subset).size !== subset.length ||
        subset.some((k) => !Number.isInteger(k) || k < 0 || k >= this.steps)
      ) {
        throw new Error(
          `subset must list distinct steps in [0, ${this.steps - 1}], got [${subset.join(", ")}]`,
        );
      }
    }
    const params: tf.Tensor[] = [conditioning, ...denoiser.variables];
    let sums = params.map((p) => tf.zerosLike(p));
    const accumulate = (k: number, grads: tf.Tensor[]) => {
      onStep?.(k, grads);
      const next = added(sums, grads);
      tf.dispose(sums);
      tf.dispose(grads);
      sums = next;
    };
    if (mode === "adjusted") {
      // Steps are independent terms here: a uniform subset of m, each × steps/m, is unbiased.
      const chosen = subset ?? this.timesteps.map((_, k) => k);
      const weight = this.steps / chosen.length;
      // One step's vector–Jacobian product added to the sums, replayed as its kernels from the
      // second step on where the denoiser takes a tensor timestep (and no hook looks at each
      // step's own contribution): the latents, timestep, cotangent and sums are its inputs.
      const replayed = new ReplayedStep(1);
      const predictAt = onStep ? undefined : denoiser.predictAt?.bind(denoiser);
      for (const k of chosen) {
        const z = trace.inputs[k];
        const t = this.timesteps[k];
        const dy = tf.mul(cotangent, this.adjustedCoefficients[k] * weight) as tf.Tensor4D;
        if (predictAt) {
          const timestep = tf.tensor1d([t]);
          const inputs = [z, timestep, dy, ...sums];
          const next = replayed.run(inputs, () =>
            tf.tidy(() =>
              added(
                sums,
                vectorJacobian(() => predictAt(z, timestep, conditioning), params, dy),
              ),
            ),
          );
          tf.dispose([...sums, timestep]);
          sums = next;
        } else {
          accumulate(
            k,
            vectorJacobian(() => denoiser.predict(z, t, conditioning), params, dy),
          );
        }
        dy.dispose();
      }
    } else if (mode === "exact") {
      let dz: tf.Tensor4D = cotangent.clone();
      for (let k = this.steps - 1; k >= 0; k--) {
        const z = trace.inputs[k];
        // The first step's input is the fixed starting noise: no gradient needed there.
        const xs = k > 0 ? [...params, z] : params;
        const grads = vectorJacobian(() => this.stepAt(k, denoiser, z, conditioning), xs, dz);
        dz.dispose();
        if (k > 0) dz = grads.pop() as tf.Tensor4D;
        accumulate(k, grads);
      }
    } else {
      throw new Error(`unknown chain gradient mode "${String(mode)}": expected adjusted or exact`);
    }
    const [conditioningGradient, ...variableGradients] = sums;
    return { conditioning: conditioningGradient, variables: variableGradients };
  }

  /**
   * The same gradients from one tape through the whole chain (no checkpointing; memory grows
   * with the steps) — the reference the checkpointed pass is tested against, and the bench's
   * baseline. `loss` maps z_0 to a scalar.
   */
  tapedGradients(
    denoiser: ChainDenoiser,
    start: tf.Tensor4D,
    conditioning: tf.Tensor,
    loss: (z0: tf.Tensor4D) => tf.Scalar,
    mode: ChainGradientMode,
  ): ChainGradients {
    const params: tf.Tensor[] = [conditioning, ...denoiser.variables];
    const f = () => {
      let z: tf.Tensor4D = start;
      this.timesteps.forEach((t, k) => {
        let eps: tf.Tensor;
        if (mode === "adjusted") {
          eps = denoiser.predict(detach(z) as tf.Tensor4D, t, conditioning);
          // On this tape ε_k reaches z_0 with coefficient C_k; rescale it to the adjusted one.
          eps = scaleGradient(eps, this.adjustedCoefficients[k] / this.directCoefficients[k]);
        } else {
          eps = denoiser.predict(z, t, conditioning);
        }
        z = this.scheduler.step(eps, t, z).prevSample as tf.Tensor4D;
      });
      return loss(z);
    };
    const { value, grads } = tf.engine().gradients(f, params, undefined, true);
    value.dispose();
    const [c, ...rest] = params.map((p, i) => grads[i] ?? tf.zerosLike(p));
    return { conditioning: c, variables: rest };
  }
}
