/**
 * An audit's work split into units — a generation batch of one prompt's images, a batch of the
 * quality audit's counterparts, and once the real side — and the units into shards. Units are
 * the batches a whole audit runs in, so an image is generated, classified and featurised in the
 * same batch whether the audit runs in one process or in a hundred: the per-image numbers, and
 * so every statistic, are identical, not close.
 */
import { qualityUnits } from "./qualityAudit";
import { promptBatches } from "./representationAudit";
import type { AuditSettings } from "./auditSettings";

export type AuditUnit =
  /** Images start … start+count−1 of prompt `prompt` (an index into the prompts). */
  | { kind: "representation"; prompt: number; start: number; count: number }
  /** Quality counterparts start … start+count−1. */
  | { kind: "quality"; start: number; count: number }
  /** The quality audit's real side: features, labels, the memorisation null. */
  | { kind: "reference" };

/** Shard `index` of `count` (1-based, as the command line writes it: 2/3). */
export interface AuditShard {
  index: number;
  count: number;
}

export const WHOLE_AUDIT: AuditShard = { index: 1, count: 1 };

/** Every unit of an audit, in order: the real side, the prompts' batches, the counterparts. */
export function auditUnits(settings: AuditSettings): AuditUnit[] {
  const units: AuditUnit[] = [];
  if (settings.quality) units.push({ kind: "reference" });
  settings.prompts.forEach((_, prompt) => {
    for (const batch of promptBatches(settings.imagesPerPrompt, settings.generationBatch)) {
      units.push({ kind: "representation", prompt, ...batch });
    }
  });
  if (settings.quality) {
    for (const batch of qualityUnits(settings.quality.plan))
      units.push({ kind: "quality", ...batch });
  }
  return units;
}

/** Images a unit generates (the real side generates none). */
export function unitImages(unit: AuditUnit): number {
  return unit.kind === "reference" ? 0 : unit.count;
}

export function checkShard(shard: AuditShard, label = "shard"): void {
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`${label}: the shard count must be an integer ≥ 1, got ${String(count)}`);
  }
  if (!Number.isInteger(index) || index < 1 || index > count) {
    throw new Error(
      `${label}: the shard index must be an integer in 1 … ${count}, got ${String(index)}`,
    );
  }
}

/** "2/3" → { index: 2, count: 3 }, the error naming `flag`. */
export function parseShard(spec: string, flag = "--shard"): AuditShard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!match) throw new Error(`${flag} must look like i/n (e.g. 2/3), got "${spec}"`);
  const shard = { index: Number(match[1]), count: Number(match[2]) };
  checkShard(shard, `${flag} "${spec}"`);
  return shard;
}

/**
 * The units of one shard: consecutive runs of units holding about 1/count of the images each
 * (unit u goes to the shard its first image falls in). Every unit belongs to exactly one shard;
 * a shard may be empty when there are more shards than units.
 */
export function shardUnits(units: readonly AuditUnit[], shard: AuditShard): AuditUnit[] {
  checkShard(shard);
  const total = units.reduce((sum, u) => sum + unitImages(u), 0);
  let before = 0;
  const mine: AuditUnit[] = [];
  for (const unit of units) {
    const owner = total === 0 ? 1 : Math.floor((before * shard.count) / total) + 1;
    if (owner === shard.index) mine.push(unit);
    before += unitImages(unit);
  }
  return mine;
}
