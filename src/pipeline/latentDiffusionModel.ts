/**
 * A text-to-medical-image latent diffusion model: tokenizer + text encoder, KL autoencoder and
 * text-conditioned UNet, plus the config that rebuilds them. Saved as one checkpoint.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
  type CheckpointTensor,
} from "../io/checkpoint";
import { KLAutoencoder } from "../models/autoencoder";
import { assignCheckpointWeights, type CheckpointPart } from "../models/checkpointWeights";
import type { NamedWeights } from "../models/module";
import { TransformerTextEncoder } from "../models/transformerTextEncoder";
import { UNet } from "../models/unet";
import { WordTokenizer, type TokenizerJSON } from "../models/wordTokenizer";
import { createRng } from "../util/random";
import {
  resolveLatentDiffusionConfig,
  type LatentDiffusionConfig,
  type LatentDiffusionConfigInput,
} from "./latentDiffusionConfig";
import {
  checkpointSource,
  pretrainedCheckpointPath,
  type CheckpointSource,
} from "./pretrainedSource";

export const LATENT_DIFFUSION_KIND = "latent-diffusion";

export interface LatentDiffusionMetadata {
  config: LatentDiffusionConfig;
  tokenizer: TokenizerJSON;
  /** Anything the trainer records: seed, steps, data description, bias, manifest… */
  info: Record<string, unknown>;
}

export class LatentDiffusionModel {
  private loadedFrom?: CheckpointSource;

  private constructor(
    readonly config: LatentDiffusionConfig,
    readonly tokenizer: WordTokenizer,
    readonly textEncoder: TransformerTextEncoder,
    readonly autoencoder: KLAutoencoder,
    readonly unet: UNet,
    public info: Record<string, unknown> = {},
  ) {}

  /**
   * The checkpoint file this model was loaded from or last saved to (undefined for a model
   * built in memory); runAudit records it while the weights still match it.
   */
  get source(): CheckpointSource | undefined {
    return this.loadedFrom;
  }

  /** A freshly initialised model whose vocabulary comes from the training prompts. */
  static create(
    prompts: Iterable<string>,
    input: LatentDiffusionConfigInput = {},
    seed = 0,
  ): LatentDiffusionModel {
    const config = resolveLatentDiffusionConfig(input);
    return LatentDiffusionModel.build(config, WordTokenizer.fromPrompts(prompts), seed);
  }

  private static build(
    config: LatentDiffusionConfig,
    tokenizer: WordTokenizer,
    seed: number,
  ): LatentDiffusionModel {
    const rng = createRng(seed);
    const textEncoder = new TransformerTextEncoder(tokenizer, config.textEncoder, rng.fork("text"));
    // Prompts longer than the vocabulary's longest are cut rather than failing mid-audit.
    textEncoder.overflow = "truncate";
    const autoencoder = new KLAutoencoder(config.autoencoder, rng.fork("autoencoder"));
    const unet = new UNet(config.unet, rng.fork("unet"));
    return new LatentDiffusionModel(config, tokenizer, textEncoder, autoencoder, unet);
  }

  parameterCount(): { textEncoder: number; autoencoder: number; unet: number } {
    return {
      textEncoder: this.textEncoder.parameterCount(),
      autoencoder: this.autoencoder.parameterCount(),
      unet: this.unet.parameterCount(),
    };
  }

  /** The networks and the prefixes their tensors carry in a checkpoint. */
  private checkpointParts(): CheckpointPart[] {
    return [
      ["text", this.textEncoder],
      ["autoencoder", this.autoencoder],
      ["unet", this.unet],
    ];
  }

  async toCheckpoint(): Promise<Checkpoint<LatentDiffusionMetadata>> {
    const tensors: Record<string, CheckpointTensor> = {};
    const add = async (prefix: string, weights: NamedWeights, shapes: Map<string, number[]>) => {
      for (const [name, values] of Object.entries(weights)) {
        tensors[`${prefix}.${name}`] = { values, shape: shapes.get(name) ?? [values.length] };
      }
    };
    for (const [prefix, module] of this.checkpointParts()) {
      const shapes = new Map(module.namedParameters().map(([n, v]) => [n, v.shape]));
      await add(prefix, await module.getWeights(), shapes);
    }
    return {
      kind: LATENT_DIFFUSION_KIND,
      metadata: { config: this.config, tokenizer: this.tokenizer.toJSON(), info: this.info },
      tensors,
    };
  }

  /**
   * Rebuilds the model from its checkpoint's config and loads the weights, refusing tensors whose
   * names or shapes differ from what that config builds. `source` names the file in errors.
   */
  static fromCheckpoint(
    checkpoint: Checkpoint<LatentDiffusionMetadata>,
    source = "checkpoint",
  ): LatentDiffusionModel {
    const metadata = checkpoint.metadata as Partial<LatentDiffusionMetadata> | undefined;
    if (typeof metadata?.config !== "object" || typeof metadata.tokenizer !== "object") {
      throw new Error(`${source}: the checkpoint's metadata has no model config and tokenizer`);
    }
    const { config, tokenizer, info } = checkpoint.metadata;
    const model = LatentDiffusionModel.build(config, WordTokenizer.fromJSON(tokenizer), 0);
    model.info = info ?? {};
    try {
      assignCheckpointWeights(source, checkpoint.tensors, model.checkpointParts());
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  async save(file: string): Promise<void> {
    const checkpoint = await this.toCheckpoint();
    const sha256 = saveCheckpoint(file, checkpoint);
    this.loadedFrom = checkpointSource(file, sha256, checkpoint.tensors);
  }

  static load(file: string): LatentDiffusionModel {
    const checkpoint = loadCheckpoint<LatentDiffusionMetadata>(file, LATENT_DIFFUSION_KIND);
    const model = LatentDiffusionModel.fromCheckpoint(checkpoint, file);
    model.loadedFrom = checkpointSource(file, checkpoint.fileSha256, checkpoint.tensors);
    return model;
  }

  /**
   * A shipped model by name ("cxr-mini" → models/cxr-mini.fdckpt) or a checkpoint file, as
   * diffusers' `from_pretrained`; the model remembers the file (`source`).
   */
  static async fromPretrained(nameOrPath: string): Promise<LatentDiffusionModel> {
    return LatentDiffusionModel.load(pretrainedCheckpointPath(nameOrPath));
  }

  dispose(): void {
    this.textEncoder.dispose();
    this.autoencoder.dispose();
    this.unet.dispose();
  }
}

/** Images in [0, 1] (HWC rows) → a [B, H, W, C] tensor in [−1, 1], the networks' range. */
export function imagesToTensor(
  images: { data: Float32Array }[],
  size: number,
  channels: number,
): tf.Tensor4D {
  const batch = new Float32Array(images.length * size * size * channels);
  images.forEach((image, i) => {
    if (image.data.length !== size * size * channels) {
      throw new Error(
        `image ${i} has ${image.data.length} values, expected ${size}×${size}×${channels}`,
      );
    }
    const offset = i * image.data.length;
    for (let j = 0; j < image.data.length; j++) batch[offset + j] = image.data[j] * 2 - 1;
  });
  return tf.tensor4d(batch, [images.length, size, size, channels]);
}
