/**
 * How every method updates what it trains: AdamW (decoupled weight decay, β₂ = 0.999, ε = 1e-8;
 * parallel/optimizerSpec.ts) at the step's learning rate — linear warm-up then cosine decay to a
 * tenth of the peak, or constant —, the gradient clipped to a global L2 norm, a non-finite step
 * refused before it is applied (gradientStep.ts), and an optional EMA of the weights that follows
 * every applied step and becomes the result. Also what the run-state file holds of them.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { buildOptimizer, type StepOptimizer } from "../parallel/optimizerSpec";
import { WeightAverage } from "../pipeline/ema";
import { learningRateAt } from "../pipeline/learningRateSchedule";
import {
  loadRunState,
  readVariables,
  restoreVariables,
  saveRunState,
  variablesState,
  variableShapes,
  type RunSettings,
  type RunState,
} from "../pipeline/runState";
import { applyClippedGradients } from "../parallel/clippedUpdate";
import { gradientStep, type GradientStepResult } from "./gradientStep";
import type { ResolvedMethodOptions } from "./methodOptions";

export class MethodOptimization {
  private constructor(
    readonly variables: tf.Variable[],
    readonly optimizer: StepOptimizer,
    /** The weights' moving average, when the run keeps one. */
    readonly average: WeightAverage | undefined,
    private readonly options: ResolvedMethodOptions,
  ) {}

  static async create(
    variables: tf.Variable[],
    options: ResolvedMethodOptions,
  ): Promise<MethodOptimization> {
    const optimizer = buildOptimizer({
      name: "adamw",
      learningRate: options.learningRate,
      weightDecay: options.weightDecay,
      beta1: options.beta1,
    });
    const average =
      options.emaDecay === undefined
        ? undefined
        : new WeightAverage(await readVariables(variables), options.emaDecay);
    return new MethodOptimization(variables, optimizer, average, options);
  }

  /** The learning rate of step `step` (0-based). */
  learningRateAt(step: number): number {
    const { schedule, learningRate, warmupSteps, steps } = this.options;
    if (schedule === "constant") return learningRate;
    return learningRateAt({ peak: learningRate, warmupSteps, totalSteps: steps }, step);
  }

  /** One clipped update from the gradient of `loss` (its side tensors read by `read`). */
  async step<Side extends tf.Tensor[], Extras>(
    learningRate: number,
    loss: () => { total: tf.Scalar; side: Side },
    read: (side: Side) => Promise<Extras>,
  ): Promise<GradientStepResult<Extras>> {
    const result = await gradientStep(this.variables, this.optimizer, loss, read, {
      learningRate,
      clipNorm: this.options.clipNorm,
    });
    await this.followWithAverage();
    return result;
  }

  /**
   * One clipped update from gradients computed elsewhere (in `variables` order; the caller frees
   * them); returns the norm before clipping.
   */
  async apply(gradients: tf.Tensor[], learningRate: number, loss: number): Promise<number> {
    const { gradientNorm } = await applyClippedGradients(
      this.variables,
      gradients,
      this.optimizer,
      { learningRate, clipNorm: this.options.clipNorm, loss },
    );
    await this.followWithAverage();
    return gradientNorm;
  }

  private async followWithAverage(): Promise<void> {
    if (this.average) this.average.update(await readVariables(this.variables));
  }

  /** At the end of a run: the averaged weights (if kept) become the result. */
  useAverage(): void {
    this.average?.assignTo(this.variables);
  }

  /** Writes the weights, their average and the optimiser's moments at `stepsDone`. */
  async saveState<Extra>(
    file: string,
    kind: string,
    settings: RunSettings,
    stepsDone: number,
    extra?: Extra,
  ): Promise<void> {
    saveRunState<Extra>(file, kind, settings, variableShapes(this.variables), {
      step: stepsDone,
      complete: stepsDone >= this.options.steps,
      ...(await variablesState(this.variables, this.optimizer, this.average)),
      ...(extra === undefined ? {} : { extra }),
    });
  }

  /** Restores what `saveState` wrote (refusing a file of other settings); returns the state. */
  loadState<Extra>(file: string, kind: string, settings: RunSettings): RunState<Extra> {
    const state = loadRunState<Extra>(file, kind, settings, variableShapes(this.variables));
    restoreVariables(file, state, this.variables, this.optimizer, this.average);
    return state;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
