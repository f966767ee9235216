/**
 * Han et al.'s target: the subgroup proportions of a target dataset (a synthetic cohort with
 * another mix, or a loaded real dataset), optionally among the records a filter keeps (e.g. only
 * the Pleural Effusion cases, to match a prompt that names the finding). Records that do not
 * say their group (unknown sex, race not recorded) are left out of the proportions.
 */
import type { SampleRecord } from "../data/medicalSample";
import { resolveAttribute, type SensitiveAttribute } from "../data/subgroups";
import { proportionsOf, type TargetDistribution } from "../data/targetDistribution";

export interface TargetDataset {
  readonly name?: string;
  readonly attributes: readonly SensitiveAttribute[];
  readonly records: readonly SampleRecord[];
}

export interface TargetFromDatasetOptions {
  /** Keep only the records this accepts (default: all). */
  where?: (record: SampleRecord) => boolean;
}

export function targetFromDataset(
  dataset: TargetDataset,
  attributeName: string,
  options: TargetFromDatasetOptions = {},
): TargetDistribution {
  const attribute = resolveAttribute(dataset.attributes, attributeName);
  const parts = attribute.components ?? [attribute];
  const kept = dataset.records.filter(
    (r) =>
      (options.where ? options.where(r) : true) &&
      parts.every((p) => r.attributes[p.name] !== undefined),
  );
  if (kept.length === 0) {
    const label = dataset.name ? `dataset "${dataset.name}"` : "the dataset";
    const filtered = options.where ? " that pass the filter" : "";
    throw new Error(`${label} has no records with a known "${attributeName}"${filtered}`);
  }
  return proportionsOf(attribute, kept);
}
