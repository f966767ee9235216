/**
 * Seeded shuffling and splits stratified by subgroup × label, so every split keeps each
 * (group, finding) cell's share — a rare subgroup is not left out of the test set by chance.
 */
import { createRng } from "../util/random";
import { apportion } from "./cohorts/cohortMix";
import type { SampleRecord } from "./medicalSample";

export function shuffledIndices(count: number, seed: number): number[] {
  return createRng(seed).shuffle(Array.from({ length: count }, (_, i) => i));
}

export interface SplitOptions {
  /** Split name → fraction; fractions must sum to 1 (±1e-6). */
  fractions: Readonly<Record<string, number>>;
  seed: number;
  /** Attributes to stratify by (default: every attribute a record has). */
  attributes?: readonly string[];
  /** Findings to stratify by (default: every label a record has). */
  findings?: readonly string[];
  /**
   * A details key (e.g. "lesion_id", "patient") whose records must stay in one split; the unit
   * is stratified by its first record.
   */
  groupBy?: string;
}

/** Stratum key of a record: attribute groups (or "?" when unknown) and finding values. */
export function stratumOf(
  record: SampleRecord,
  attributes: readonly string[],
  findings: readonly string[],
): string {
  const parts = attributes.map((a) => `${a}=${record.attributes[a] ?? "?"}`);
  for (const f of findings) parts.push(`${f}=${record.labels[f] ?? "?"}`);
  return parts.join("|");
}

/** Returns split name → record indices (each sorted ascending). */
export function stratifiedSplit(
  records: readonly SampleRecord[],
  options: SplitOptions,
): Record<string, number[]> {
  const names = Object.keys(options.fractions);
  if (names.length === 0) throw new Error("stratifiedSplit needs at least one split");
  let total = 0;
  for (const name of names) {
    const f = options.fractions[name];
    if (!(f >= 0)) throw new Error(`split "${name}" has fraction ${f}, expected ≥ 0`);
    total += f;
  }
  if (Math.abs(total - 1) > 1e-6) throw new Error(`split fractions sum to ${total}, not 1`);
  const attributes =
    options.attributes ?? [...new Set(records.flatMap((r) => Object.keys(r.attributes)))].sort();
  const findings =
    options.findings ?? [...new Set(records.flatMap((r) => Object.keys(r.labels)))].sort();

  // Units: single records, or all records sharing the groupBy detail.
  const units = new Map<string, number[]>();
  records.forEach((record, i) => {
    let key = String(i);
    if (options.groupBy !== undefined) {
      const value = record.details[options.groupBy];
      if (value === undefined) {
        throw new Error(`record ${record.id} has no "${options.groupBy}" detail to group by`);
      }
      key = String(value);
    }
    const unit = units.get(key);
    if (unit) unit.push(i);
    else units.set(key, [i]);
  });
  const strata = new Map<string, number[][]>();
  for (const unit of units.values()) {
    const key = stratumOf(records[unit[0]], attributes, findings);
    const list = strata.get(key);
    if (list) list.push(unit);
    else strata.set(key, [unit]);
  }

  const rng = createRng(options.seed);
  const out: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const key of [...strata.keys()].sort()) {
    const stratumUnits = rng.fork(key).shuffle(strata.get(key)!);
    const counts = apportion(
      stratumUnits.length,
      names.map((n) => options.fractions[n]),
    );
    let at = 0;
    names.forEach((name, k) => {
      for (const unit of stratumUnits.slice(at, at + counts[k])) out[name].push(...unit);
      at += counts[k];
    });
  }
  for (const name of names) out[name].sort((a, b) => a - b);
  return out;
}
