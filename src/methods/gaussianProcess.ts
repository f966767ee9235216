/**
 * Exact Gaussian-process regression (Rasmussen & Williams, ch. 2) for FairDiffusion's Bayesian
 * optimisation of σ: an RBF kernel k(x, x') = s²·exp(−‖x − x'‖² / 2ℓ²) plus observation noise
 * σ_n², solved by a Cholesky factorisation in float64. Outputs can be standardised (as sklearn's
 * normalize_y / botorch's Standardize): the GP then models (y − mean)/std and reports results in
 * the original units. Hyperparameters (ℓ, s², σ_n²) are chosen by maximising the log marginal
 * likelihood over a small grid: the buffers FairDiffusion fits hold 30–50 points, so a few
 * hundred exact fits cost milliseconds and need no gradient-based search.
 */

export interface GaussianProcessHyperparameters {
  /** RBF length scale ℓ (shared by every input dimension). */
  lengthscale: number;
  /** Signal variance s² (of the standardised outputs when standardising). */
  signalVariance: number;
  /** Observation noise variance σ_n² (same units as the signal variance). */
  noiseVariance: number;
}

export interface GaussianProcessPrediction {
  mean: number;
  /** Posterior variance of the latent function (noise excluded), ≥ 0. */
  variance: number;
}

export interface GaussianProcessPredictionWithGradient extends GaussianProcessPrediction {
  meanGradient: Float64Array;
  varianceGradient: Float64Array;
}

export interface GaussianProcessFitOptions {
  /** Model (y − mean(y)) / std(y) instead of y (default true). */
  standardize?: boolean;
}

/** Grid searched by `fitGaussianProcessByLikelihood` unless another is given. */
export const DEFAULT_HYPERPARAMETER_GRID = {
  lengthscales: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5],
  signalVariances: [0.25, 0.5, 1, 2, 4],
  noiseVariances: [1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.3, 1],
};

export type HyperparameterGrid = typeof DEFAULT_HYPERPARAMETER_GRID;

function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let j = 0; j < a.length; j++) {
    const diff = a[j] - b[j];
    d += diff * diff;
  }
  return d;
}

export function rbfKernel(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  lengthscale: number,
  signalVariance: number,
): number {
  return signalVariance * Math.exp(-squaredDistance(a, b) / (2 * lengthscale * lengthscale));
}

/**
 * Lower-triangular L with A = L·Lᵀ (row-major n×n, float64). Throws when A is not positive
 * definite: callers add noise or jitter to the diagonal first.
 */
export function choleskyFactor(matrix: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i * n + j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(sum > 0)) {
          throw new Error(`matrix is not positive definite (pivot ${i} is ${sum})`);
        }
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j];
      }
    }
  }
  return l;
}

/** Solves L·x = b (forward substitution). */
function solveLower(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * n + k] * x[k];
    x[i] = sum / l[i * n + i];
  }
  return x;
}

/** Solves Lᵀ·x = b (back substitution). */
function solveUpper(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * x[k];
    x[i] = sum / l[i * n + i];
  }
  return x;
}

function checkData(inputs: readonly ArrayLike<number>[], outputs: ArrayLike<number>): number {
  if (inputs.length === 0) throw new Error("a Gaussian process needs at least one observation");
  if (inputs.length !== outputs.length) {
    throw new Error(`${inputs.length} inputs but ${outputs.length} outputs`);
  }
  const dimension = inputs[0].length;
  inputs.forEach((x, i) => {
    if (x.length !== dimension) {
      throw new Error(`input ${i} has ${x.length} dimensions, input 0 has ${dimension}`);
    }
    for (let j = 0; j < x.length; j++) {
      if (!Number.isFinite(x[j])) throw new Error(`input ${i}[${j}] is not finite: ${x[j]}`);
    }
    if (!Number.isFinite(outputs[i])) throw new Error(`output ${i} is not finite: ${outputs[i]}`);
  });
  return dimension;
}

function checkHyperparameters(h: GaussianProcessHyperparameters): void {
  for (const [name, value] of Object.entries(h)) {
    if (!(Number.isFinite(value) && value > 0)) {
      throw new Error(`Gaussian-process ${name} must be a positive number, got ${value}`);
    }
  }
}

export class GaussianProcess {
  private constructor(
    readonly inputs: Float64Array[],
    readonly hyperparameters: GaussianProcessHyperparameters,
    /** Output offset and scale of the standardisation (0 and 1 when not standardising). */
    readonly outputMean: number,
    readonly outputScale: number,
    private readonly cholesky: Float64Array,
    /** α = K⁻¹·y (standardised y). */
    private readonly alpha: Float64Array,
    readonly logMarginalLikelihood: number,
  ) {}

  get dimension(): number {
    return this.inputs[0].length;
  }

  /** Exact posterior given fixed hyperparameters. */
  static fit(
    inputs: readonly ArrayLike<number>[],
    outputs: ArrayLike<number>,
    hyperparameters: GaussianProcessHyperparameters,
    options: GaussianProcessFitOptions = {},
  ): GaussianProcess {
    checkData(inputs, outputs);
    checkHyperparameters(hyperparameters);
    const n = inputs.length;
    let mean = 0;
    let scale = 1;
    if (options.standardize ?? true) {
      for (let i = 0; i < n; i++) mean += outputs[i];
      mean /= n;
      let sq = 0;
      for (let i = 0; i < n; i++) sq += (outputs[i] - mean) ** 2;
      // Population std (ddof 0), as sklearn's normalize_y.
      const std = Math.sqrt(sq / n);
      // Constant outputs: keep scale 1 rather than divide by 0.
      scale = std > 1e-12 ? std : 1;
    }
    const y = Float64Array.from({ length: n }, (_, i) => (outputs[i] - mean) / scale);
    const xs = inputs.map((x) => Float64Array.from(x));
    const { lengthscale, signalVariance, noiseVariance } = hyperparameters;
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const v = rbfKernel(xs[i], xs[j], lengthscale, signalVariance);
        k[i * n + j] = v;
        k[j * n + i] = v;
      }
      k[i * n + i] += noiseVariance;
    }
    const l = choleskyFactor(k, n);
    const alpha = solveUpper(l, n, solveLower(l, n, y));
    let logDet = 0;
    for (let i = 0; i < n; i++) logDet += Math.log(l[i * n + i]);
    let fit = 0;
    for (let i = 0; i < n; i++) fit += y[i] * alpha[i];
    // Likelihood of the standardised outputs (what the hyperparameters are chosen on).
    const lml = -0.5 * fit - logDet - 0.5 * n * Math.log(2 * Math.PI);
    return new GaussianProcess(xs, { ...hyperparameters }, mean, scale, l, alpha, lml);
  }

  /** Posterior mean and latent variance at x, in the outputs' original units. */
  predict(x: ArrayLike<number>): GaussianProcessPrediction {
    const { mean, variance } = this.predictStandardized(x, false);
    return { mean, variance };
  }

  /** Posterior mean and variance at x with their gradients with respect to x. */
  predictWithGradient(x: ArrayLike<number>): GaussianProcessPredictionWithGradient {
    return this.predictStandardized(x, true) as GaussianProcessPredictionWithGradient;
  }

  private predictStandardized(
    x: ArrayLike<number>,
    withGradient: boolean,
  ): GaussianProcessPrediction & Partial<GaussianProcessPredictionWithGradient> {
    const d = this.dimension;
    if (x.length !== d) throw new Error(`query has ${x.length} dimensions, the GP has ${d}`);
    const n = this.inputs.length;
    const { lengthscale, signalVariance } = this.hyperparameters;
    const kx = new Float64Array(n);
    for (let i = 0; i < n; i++) kx[i] = rbfKernel(x, this.inputs[i], lengthscale, signalVariance);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += kx[i] * this.alpha[i];
    const v = solveLower(this.cholesky, n, kx);
    let explained = 0;
    for (let i = 0; i < n; i++) explained += v[i] * v[i];
    const latent = Math.max(0, signalVariance - explained);
    const scale2 = this.outputScale * this.outputScale;
    const result: GaussianProcessPrediction & Partial<GaussianProcessPredictionWithGradient> = {
      mean: this.outputMean + this.outputScale * mean,
      variance: latent * scale2,
    };
    if (!withGradient) return result;
    // ∂k_i/∂x = k_i·(x_i − x)/ℓ²; ∂mean = Σ α_i ∂k_i; ∂var = −2·(K⁻¹k)ᵀ∂k.
    const kinvK = solveUpper(this.cholesky, n, v);
    const meanGradient = new Float64Array(d);
    const varianceGradient = new Float64Array(d);
    const inv = 1 / (lengthscale * lengthscale);
    for (let i = 0; i < n; i++) {
      const xi = this.inputs[i];
      for (let j = 0; j < d; j++) {
        const dk = kx[i] * (xi[j] - x[j]) * inv;
        meanGradient[j] += this.alpha[i] * dk;
        varianceGradient[j] += -2 * kinvK[i] * dk;
      }
    }
    for (let j = 0; j < d; j++) {
      meanGradient[j] *= this.outputScale;
      varianceGradient[j] = latent > 0 ? varianceGradient[j] * scale2 : 0;
    }
    result.meanGradient = meanGradient;
    result.varianceGradient = varianceGradient;
    return result;
  }
}

/**
 * The exact GP whose hyperparameters maximise the log marginal likelihood over `grid` (every
 * combination is fitted; a combination whose kernel matrix is not positive definite is skipped).
 */
export function fitGaussianProcessByLikelihood(
  inputs: readonly ArrayLike<number>[],
  outputs: ArrayLike<number>,
  grid: HyperparameterGrid = DEFAULT_HYPERPARAMETER_GRID,
  options: GaussianProcessFitOptions = {},
): GaussianProcess {
  checkData(inputs, outputs);
  let best: GaussianProcess | undefined;
  for (const lengthscale of grid.lengthscales) {
    for (const signalVariance of grid.signalVariances) {
      for (const noiseVariance of grid.noiseVariances) {
        let gp: GaussianProcess;
        try {
          gp = GaussianProcess.fit(
            inputs,
            outputs,
            { lengthscale, signalVariance, noiseVariance },
            options,
          );
        } catch {
          continue;
        }
        if (!best || gp.logMarginalLikelihood > best.logMarginalLikelihood) best = gp;
      }
    }
  }
  if (!best) throw new Error("no hyperparameters in the grid gave a positive-definite kernel");
  return best;
}
