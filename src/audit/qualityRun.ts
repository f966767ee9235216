/**
 * What every stage of a quality audit shares — whether it runs whole or in shards: the abort
 * check and the seeds derived from the audit's seed (one per random thing, by label).
 */
import { hashString } from "../util/random";

export const QUALITY_ABORTED = "quality audit aborted";

export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error(QUALITY_ABORTED);
}

/** The seed of one random part of the audit ("quality:kid", "quality:bootstrap:sex:Female"…). */
export function subSeed(seed: number, label: string): number {
  return (seed ^ hashString(label)) >>> 0;
}
