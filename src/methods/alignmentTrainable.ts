/**
 * What distributional alignment trains, attached to a latent diffusion model with every base
 * weight frozen: LoRA adapters on the text encoder's attention (default; Shen et al.'s main
 * setting), LoRA on the UNet's cross-attention, or soft prompt tokens prepended to every prompt.
 * Text-side parameters reach the loss through the text embeddings, UNet-side ones directly
 * through the denoiser — the two lists are kept apart for the chain gradient.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { addLoraAdapters, type LoraAdapters } from "../models/lora";
import type { SoftPrompt } from "../models/softPrompt";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { Rng } from "../util/random";

export type AlignmentTrainableKind = "text-lora" | "unet-lora" | "soft-prompt";

export const ALIGNMENT_TRAINABLE_KINDS: AlignmentTrainableKind[] = [
  "text-lora",
  "unet-lora",
  "soft-prompt",
];

export interface AlignmentTrainableOptions {
  kind: AlignmentTrainableKind;
  /** LoRA rank (default 4) and alpha (default = rank). */
  rank?: number;
  alpha?: number;
  /** Soft prompt tokens (default 5, as Shen et al.). */
  tokens?: number;
}

export class AlignmentTrainable {
  private constructor(
    readonly kind: AlignmentTrainableKind,
    /** Parameters inside the text encoder (reach the loss through the text embeddings). */
    readonly textVariables: tf.Variable[],
    /** Parameters inside the UNet (reach the loss directly through each denoising step). */
    readonly unetVariables: tf.Variable[],
    private readonly adapters: LoraAdapters | undefined,
    readonly softPrompt: SoftPrompt | undefined,
    private readonly model: LatentDiffusionModel,
  ) {}

  static attach(
    model: LatentDiffusionModel,
    options: AlignmentTrainableOptions,
    rng: Rng,
  ): AlignmentTrainable {
    const { kind } = options;
    if (!ALIGNMENT_TRAINABLE_KINDS.includes(kind)) {
      throw new Error(
        `unknown trainable "${String(kind)}": expected ${ALIGNMENT_TRAINABLE_KINDS.join(", ")}`,
      );
    }
    model.textEncoder.setTrainable(false);
    model.unet.setTrainable(false);
    model.autoencoder.setTrainable(false);
    const lora = { rank: options.rank ?? 4, alpha: options.alpha };
    if (kind === "text-lora") {
      const adapters = addLoraAdapters(model.textEncoder, lora, rng.fork("text-lora"));
      return new AlignmentTrainable(kind, adapters.parameters(), [], adapters, undefined, model);
    }
    if (kind === "unet-lora") {
      const adapters = addLoraAdapters(
        model.unet,
        { ...lora, attention: ["cross"] },
        rng.fork("unet-lora"),
      );
      return new AlignmentTrainable(kind, [], adapters.parameters(), adapters, undefined, model);
    }
    const soft = model.textEncoder.attachSoftPrompt(options.tokens ?? 5, rng.fork("soft-prompt"));
    return new AlignmentTrainable(kind, soft.parameters(), [], undefined, soft, model);
  }

  /** Every trained variable: text side first, then UNet side (the optimiser's order). */
  get variables(): tf.Variable[] {
    return [...this.textVariables, ...this.unetVariables];
  }

  parameterCount(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  /**
   * Ends training: LoRA is merged into the base weights and the adapters removed, so the model
   * is a plain model again (savable, no extra cost at sampling). A soft prompt stays attached.
   */
  finish(): void {
    if (this.adapters) {
      this.adapters.merge();
      this.adapters.remove();
    }
  }

  /** Takes the trained parameters off without keeping what they learnt. */
  discard(): void {
    if (this.adapters) this.adapters.remove();
    if (this.softPrompt) this.model.textEncoder.detachSoftPrompt();
  }
}
