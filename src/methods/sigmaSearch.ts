/**
 * FairDiffusion's outer loop over σ: every training step records (σ, fairness score); every T
 * steps an exact GP is fitted to the records, σ jumps to the UCB maximiser over [0, 1]^K and the
 * records are cleared; after every step σ ← ρ·σ + (1 − ρ)·U(0, 1)^K. All randomness comes from
 * (seed, step), so a resumed run continues exactly.
 */
import { createRng } from "../util/random";
import {
  fitGaussianProcessByLikelihood,
  type GaussianProcessHyperparameters,
} from "./gaussianProcess";
import { exploreSigma } from "./perturbationWeights";
import { maximizeUpperConfidenceBound } from "./upperConfidenceBound";

export interface SigmaSearchOptions {
  /** Length of σ. */
  size: number;
  seed: number;
  /** Steps between GP fits (default 30). */
  every?: number;
  /** Exploration keep-rate ρ (default 0.95). */
  rho?: number;
  /** UCB exploration weight β in μ + √β·σ (default 0.1). */
  beta?: number;
  /** Initial σ (default all ones). */
  initial?: ArrayLike<number>;
}

export interface SigmaSearchState {
  sigma: number[];
  inputs: number[][];
  scores: number[];
}

/** What the last GP fit chose, for step events. */
export interface SigmaUpdate {
  step: number;
  chosen: number[];
  acquisition: number;
  observations: number;
  hyperparameters: GaussianProcessHyperparameters;
}

export class SigmaSearch {
  private sigmaValues: Float64Array;
  private inputs: Float64Array[] = [];
  private scores: number[] = [];
  readonly every: number;
  readonly rho: number;
  readonly beta: number;

  constructor(private readonly options: SigmaSearchOptions) {
    this.every = options.every ?? 30;
    this.rho = options.rho ?? 0.95;
    this.beta = options.beta ?? 0.1;
    if (!Number.isInteger(this.every) || this.every < 2) {
      throw new Error(`σ search interval T must be an integer ≥ 2, got ${this.every}`);
    }
    if (!(this.rho >= 0 && this.rho <= 1)) throw new Error(`ρ must be in [0, 1], got ${this.rho}`);
    if (!(this.beta >= 0)) throw new Error(`β must be ≥ 0, got ${this.beta}`);
    const initial = options.initial ?? new Array<number>(options.size).fill(1);
    if (initial.length !== options.size) {
      throw new Error(`initial σ has ${initial.length} entries, expected ${options.size}`);
    }
    this.sigmaValues = Float64Array.from(initial);
  }

  get sigma(): Float64Array {
    return this.sigmaValues;
  }

  get pending(): number {
    return this.scores.length;
  }

  /**
   * Records this step's score for the σ it used, refits and jumps when `step` (1-based, steps
   * done) is a multiple of T, then explores. Returns the GP's choice when there was a fit.
   */
  advance(step: number, score: number): SigmaUpdate | undefined {
    if (!Number.isFinite(score)) throw new Error(`fairness score must be finite, got ${score}`);
    this.inputs.push(Float64Array.from(this.sigmaValues));
    this.scores.push(score);
    let update: SigmaUpdate | undefined;
    if (step % this.every === 0 && this.scores.length >= 2) {
      const gp = fitGaussianProcessByLikelihood(this.inputs, this.scores);
      const best = maximizeUpperConfidenceBound(gp, {
        beta: this.beta,
        seed: createRng(this.options.seed).fork(`ucb:${step}`).uint32(),
      });
      update = {
        step,
        chosen: best.x,
        acquisition: best.value,
        observations: this.scores.length,
        hyperparameters: gp.hyperparameters,
      };
      this.sigmaValues = Float64Array.from(best.x);
      this.inputs = [];
      this.scores = [];
    }
    const rng = createRng(this.options.seed).fork(`explore:${step}`);
    this.sigmaValues = exploreSigma(this.sigmaValues, this.rho, rng);
    return update;
  }

  state(): SigmaSearchState {
    return {
      sigma: Array.from(this.sigmaValues),
      inputs: this.inputs.map((x) => Array.from(x)),
      scores: [...this.scores],
    };
  }

  restore(state: SigmaSearchState): void {
    if (state.sigma.length !== this.options.size) {
      throw new Error(`saved σ has ${state.sigma.length} entries, expected ${this.options.size}`);
    }
    this.sigmaValues = Float64Array.from(state.sigma);
    this.inputs = state.inputs.map((x) => Float64Array.from(x));
    this.scores = [...state.scores];
  }
}
