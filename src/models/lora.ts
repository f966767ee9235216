/**
 * Puts LoRA adapters on the attention projections of a model (UNet cross-attention, text
 * encoder attention, …) and handles them as one group: their parameters for the optimiser,
 * switching them on and off, merging into the base weights, saving and loading them alone.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { Attention, type AttentionKind } from "./attention";
import type { Linear } from "./linear";
import type { LoraAdapter, LoraOptions } from "./loraAdapter";
import type { Module, NamedWeights } from "./module";

export type AttentionProjection = "q" | "k" | "v" | "out";

export interface LoraTargetOptions extends LoraOptions {
  /** Attention kinds to adapt (default both; for a UNet's text conditioning: ["cross"]). */
  attention?: AttentionKind[];
  projections?: AttentionProjection[];
}

export interface LoraEntry {
  /** Dotted path of the adapted layer inside the model, e.g. "mid_attn.block.crossAttention.q". */
  path: string;
  layer: Linear;
  adapter: LoraAdapter;
}

export class LoraAdapters {
  constructor(readonly entries: LoraEntry[]) {}

  parameters(): tf.Variable[] {
    return this.entries.flatMap((e) => e.adapter.parameters());
  }

  parameterCount(): number {
    return this.entries.reduce((n, e) => n + e.adapter.parameterCount(), 0);
  }

  setEnabled(enabled: boolean): void {
    for (const e of this.entries) {
      if (e.adapter.merged)
        throw new Error(`LoRA at ${e.path} is merged; unmerge before switching it`);
      e.adapter.enabled = enabled;
    }
  }

  merge(): void {
    for (const e of this.entries) e.layer.mergeLora();
  }

  unmerge(): void {
    for (const e of this.entries) e.layer.unmergeLora();
  }

  /** Adapter weights only, named as in the full model ("<path>.lora.down" / ".lora.up"). */
  async getWeights(): Promise<NamedWeights> {
    const out: NamedWeights = {};
    for (const e of this.entries) {
      const weights = await e.adapter.getWeights();
      for (const [name, values] of Object.entries(weights)) out[`${e.path}.lora.${name}`] = values;
    }
    return out;
  }

  setWeights(weights: NamedWeights): void {
    const expected = new Set(
      this.entries.flatMap((e) => [`${e.path}.lora.down`, `${e.path}.lora.up`]),
    );
    const extra = Object.keys(weights).filter((k) => !expected.has(k));
    const missing = [...expected].filter((k) => !(k in weights));
    if (extra.length > 0 || missing.length > 0) {
      throw new Error(
        `LoRA weights do not match: missing [${missing.slice(0, 5)}], unexpected [${extra.slice(0, 5)}]`,
      );
    }
    for (const e of this.entries) {
      e.adapter.setWeights({
        down: weights[`${e.path}.lora.down`],
        up: weights[`${e.path}.lora.up`],
      });
    }
  }

  /** Detaches and frees every adapter (merged updates stay in the base weights). */
  remove(): void {
    for (const e of this.entries) e.layer.detachLora();
    this.entries.length = 0;
  }
}

/** Attaches an adapter to each matching attention projection under `model`. */
export function addLoraAdapters(model: Module, options: LoraTargetOptions, rng: Rng): LoraAdapters {
  const kinds = options.attention ?? ["self", "cross"];
  const projections = options.projections ?? ["q", "k", "v", "out"];
  const entries: LoraEntry[] = [];
  for (const [path, module] of model.namedModules()) {
    if (!(module instanceof Attention) || !kinds.includes(module.kind)) continue;
    for (const projection of projections) {
      const layer = module[projection];
      const layerPath = path === "" ? projection : `${path}.${projection}`;
      entries.push({
        path: layerPath,
        layer,
        adapter: layer.attachLora(options, rng.fork(layerPath)),
      });
    }
  }
  if (entries.length === 0) {
    throw new Error(`no ${kinds.join("/")}-attention layers found to adapt`);
  }
  return new LoraAdapters(entries);
}
