/**
 * What a mitigation method trains, one vocabulary and one lifecycle for the three methods.
 *
 * Kinds (`trainable`, several train together, in the order given):
 *  - "text-lora": LoRA (models/lora.ts) on the text encoder's attention projections q, k, v, out;
 *  - "unet-lora": LoRA on the UNet's cross-attention projections (the text conditioning);
 *  - "soft-prompt": learnable token embeddings prepended to every prompt (models/softPrompt.ts);
 *  - "text", "unet": the network's own weights (those trainable when the run starts).
 *
 * Lifecycle: `attach` freezes every other weight and adds the adapters; `variables` are what the
 * optimiser updates (text-side ones reach the loss through the text embeddings, UNet-side ones
 * through each denoising step — Method 1's chain gradient keeps them apart); `original` runs the
 * model as it was given (LoRA switched off, or a frozen copy); the run ends with `keep` (finished
 * or aborted: LoRA merged into the base weights, a soft prompt and trained weights stay) or `drop`
 * (after an error: the model as it was given). Either restores the trainable flags and frees
 * what the adapters made.
 */
import * as tf from "@tensorflow/tfjs-core";
import { addLoraAdapters, type LoraAdapters } from "../models/lora";
import { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { readVariables } from "../pipeline/runState";
import type { SettingValue } from "../pipeline/runState";
import type { Rng } from "../util/random";
import { MethodOptionError, checkInteger, checkNumber } from "./methodOptionError";

export type AdapterKind = "text-lora" | "unet-lora" | "soft-prompt" | "text" | "unet";

export const ADAPTER_KINDS: readonly AdapterKind[] = [
  "text-lora",
  "unet-lora",
  "soft-prompt",
  "text",
  "unet",
];

/** What a method trains: the same option names in the three methods. */
export interface AdapterOptions {
  /** One kind or several (default: the method's own, see its options). */
  trainable?: AdapterKind | readonly AdapterKind[];
  /** LoRA rank (default 4) and scale numerator α (default = rank): ΔW = (α/r)·A·B. */
  rank?: number;
  alpha?: number;
  /** Soft prompt tokens (default 5, as Shen et al.). */
  softPromptTokens?: number;
  /** Merge LoRA into the base weights when the run ends (default true): `model` is then the tuned model. */
  mergeAtEnd?: boolean;
}

/** Adapter options with defaults resolved. */
export interface AdapterSettings {
  kinds: AdapterKind[];
  rank: number;
  alpha: number;
  softPromptTokens: number;
  mergeAtEnd: boolean;
}

const LORA_KINDS: readonly AdapterKind[] = ["text-lora", "unet-lora"];
const TEXT_SIDE: readonly AdapterKind[] = ["text-lora", "soft-prompt", "text"];

export function resolveAdapterOptions(
  options: AdapterOptions,
  defaultKinds: readonly AdapterKind[],
): AdapterSettings {
  const given: unknown = options.trainable ?? defaultKinds;
  const expected = `${ADAPTER_KINDS.map((k) => `"${k}"`).join(", ")}, or a list of them`;
  if (typeof given !== "string" && !Array.isArray(given)) {
    throw new MethodOptionError("trainable", given, expected);
  }
  const kinds = (typeof given === "string" ? [given] : [...given]) as AdapterKind[];
  if (kinds.length === 0) throw new MethodOptionError("trainable", given, expected);
  for (const kind of kinds) {
    if (!ADAPTER_KINDS.includes(kind)) throw new MethodOptionError("trainable", kind, expected);
  }
  if (new Set(kinds).size !== kinds.length) {
    throw new MethodOptionError("trainable", given, "a list without repeats");
  }
  // LoRA on weights that are themselves trained would only duplicate them.
  for (const [lora, weights] of [
    ["text-lora", "text"],
    ["unet-lora", "unet"],
  ] as const) {
    if (kinds.includes(lora) && kinds.includes(weights)) {
      throw new MethodOptionError("trainable", given, `"${lora}" or "${weights}", not both`);
    }
  }
  const rank = checkInteger("rank", options.rank ?? 4, 1);
  return {
    kinds,
    rank,
    alpha: checkNumber("alpha", options.alpha ?? rank, { above: 0 }),
    softPromptTokens: checkInteger("softPromptTokens", options.softPromptTokens ?? 5, 1),
    mergeAtEnd: options.mergeAtEnd ?? true,
  };
}

/** The adapters' part of a run's settings (LoRA and soft-prompt sizes only where they apply). */
export function adapterRunSettings(settings: AdapterSettings): Record<string, SettingValue> {
  const lora = settings.kinds.some((k) => LORA_KINDS.includes(k));
  return {
    trainable: settings.kinds.join(","),
    "LoRA rank": lora ? settings.rank : null,
    "LoRA alpha": lora ? settings.alpha : null,
    "soft prompt tokens": settings.kinds.includes("soft-prompt") ? settings.softPromptTokens : null,
  };
}

/** One attached kind: its variables and what undoes it. */
interface AttachedPart {
  kind: AdapterKind;
  variables: tf.Variable[];
  lora?: LoraAdapters;
}

export class TrainedAdapters {
  private ended = false;

  private constructor(
    readonly model: LatentDiffusionModel,
    readonly settings: AdapterSettings,
    private readonly parts: AttachedPart[],
    /** Every base weight's trainable flag before the run. */
    private readonly flags: Map<tf.Variable, boolean>,
    /** The base weights trained ("text", "unet") and their values as given, for `drop`. */
    private readonly baseWeights: { variables: tf.Variable[]; initial: Float32Array[] },
    private readonly frozenCopy: LatentDiffusionModel | undefined,
  ) {}

  /**
   * Attaches `settings.kinds` to `model`. Each kind's initial values come from
   * `rng.fork(streams[kind] ?? kind)` (a method keeps its stream names, so seeded runs reproduce).
   * `keepOriginal`: `original` must be able to run the untuned model (a frozen copy is made when
   * switching LoRA off cannot give it).
   */
  static async attach(
    model: LatentDiffusionModel,
    settings: AdapterSettings,
    rng: Rng,
    options: { keepOriginal?: boolean; streams?: Partial<Record<AdapterKind, string>> } = {},
  ): Promise<TrainedAdapters> {
    const onlyLora = settings.kinds.every((k) => LORA_KINDS.includes(k));
    // Before anything is attached: a copy of the model as given.
    const frozenCopy =
      options.keepOriginal && !onlyLora
        ? LatentDiffusionModel.fromCheckpoint(await model.toCheckpoint())
        : undefined;
    const networks = [model.textEncoder, model.unet, model.autoencoder];
    const flags = new Map(networks.flatMap((n) => n.parameters().map((v) => [v, v.trainable])));
    // A network's own weights: those the caller left trainable.
    const weightsOf = (kind: "text" | "unet") =>
      (kind === "text" ? model.textEncoder : model.unet).trainableParameters();
    const weightParts = settings.kinds
      .filter((k): k is "text" | "unet" => k === "text" || k === "unet")
      .map((kind) => ({ kind, variables: weightsOf(kind) }));
    const trainedWeights = weightParts.flatMap((p) => p.variables);
    const baseWeights = { variables: trainedWeights, initial: await readVariables(trainedWeights) };
    for (const network of networks) network.setTrainable(false);
    for (const part of weightParts) for (const v of part.variables) v.trainable = true;
    const parts: AttachedPart[] = [];
    const adapters = new TrainedAdapters(model, settings, parts, flags, baseWeights, frozenCopy);
    try {
      for (const kind of settings.kinds) {
        const partRng = rng.fork(options.streams?.[kind] ?? kind);
        parts.push(adapters.attachPart(kind, partRng, weightParts));
      }
    } catch (error) {
      adapters.drop();
      throw error;
    }
    return adapters;
  }

  private attachPart(
    kind: AdapterKind,
    rng: Rng,
    weightParts: { kind: AdapterKind; variables: tf.Variable[] }[],
  ): AttachedPart {
    const { rank, alpha } = this.settings;
    if (kind === "text-lora" || kind === "unet-lora") {
      const lora =
        kind === "text-lora"
          ? addLoraAdapters(this.model.textEncoder, { rank, alpha, attention: ["self"] }, rng)
          : addLoraAdapters(this.model.unet, { rank, alpha, attention: ["cross"] }, rng);
      return { kind, variables: lora.parameters(), lora };
    }
    if (kind === "soft-prompt") {
      const soft = this.model.textEncoder.attachSoftPrompt(this.settings.softPromptTokens, rng);
      return { kind, variables: soft.parameters() };
    }
    return weightParts.find((p) => p.kind === kind) as AttachedPart;
  }

  get kinds(): readonly AdapterKind[] {
    return this.settings.kinds;
  }

  /** Every trained variable, kind after kind in the order given (the optimiser's order). */
  get variables(): tf.Variable[] {
    return this.parts.flatMap((p) => p.variables);
  }

  /** Trained variables inside the text encoder (they reach the loss through the embeddings). */
  get textVariables(): tf.Variable[] {
    return this.parts.filter((p) => TEXT_SIDE.includes(p.kind)).flatMap((p) => p.variables);
  }

  /** Trained variables inside the UNet (they reach the loss through each denoising step). */
  get unetVariables(): tf.Variable[] {
    return this.parts.filter((p) => !TEXT_SIDE.includes(p.kind)).flatMap((p) => p.variables);
  }

  parameterCount(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  /** Copies of the trained values, in `variables` order. */
  snapshot(): Promise<Float32Array[]> {
    return readVariables(this.variables);
  }

  /** Puts values taken by `snapshot` back. */
  restore(values: readonly Float32Array[]): void {
    const variables = this.variables;
    if (values.length !== variables.length) {
      throw new Error(`${values.length} snapshot values for ${variables.length} trained variables`);
    }
    variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(values[i], v.shape))));
  }

  /** Runs `f` on the model as it was given: LoRA switched off, or the frozen copy. */
  original<T>(f: (model: LatentDiffusionModel) => T): T {
    if (this.frozenCopy) return f(this.frozenCopy);
    const loras = this.parts.flatMap((p) => (p.lora ? [p.lora] : []));
    if (loras.length !== this.parts.length) {
      throw new Error("the original model was not kept: attach with keepOriginal");
    }
    for (const lora of loras) lora.setEnabled(false);
    try {
      return f(this.model);
    } finally {
      for (const lora of loras) lora.setEnabled(true);
    }
  }

  /**
   * Ends a finished or aborted run keeping what was learnt: LoRA merged into the base weights
   * and removed (unless `mergeAtEnd` is false: then it stays attached), a soft prompt stays
   * attached, trained weights stay.
   */
  keep(): void {
    if (this.ended) return;
    if (this.settings.mergeAtEnd) {
      for (const part of this.parts) {
        part.lora?.merge();
        part.lora?.remove();
      }
    }
    this.end();
  }

  /** Ends a failed run leaving the model as it was given. */
  drop(): void {
    if (this.ended) return;
    for (const part of this.parts) {
      part.lora?.remove();
      if (part.kind === "soft-prompt") this.model.textEncoder.detachSoftPrompt();
    }
    const { variables, initial } = this.baseWeights;
    variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(initial[i], v.shape))));
    this.end();
  }

  private end(): void {
    for (const [variable, trainable] of this.flags) {
      if (!variable.isDisposed) variable.trainable = trainable;
    }
    this.frozenCopy?.dispose();
    this.ended = true;
  }
}
