/**
 * What every dataset in fairdiff yields — synthetic or loaded from disk: labels, subgroup
 * membership and the prompt in the anchor format, plus the image (decoded on demand).
 */
import type { ChannelCount, RasterImage } from "../io/rasterImage";
import type { GroupAssignment, SensitiveAttribute } from "./subgroups";

/** Metadata of one sample, cheap to hold for every row of a large dataset. */
export interface SampleRecord {
  readonly id: string;
  /** attribute name → group name; an attribute whose value is unknown is absent. */
  readonly attributes: GroupAssignment;
  /** finding name → 1 (present) or 0 (absent). */
  readonly labels: Readonly<Record<string, number>>;
  /** Text prompt in the dataset's anchor format (METHODS.md). */
  readonly prompt: string;
  /** Extra per-sample facts: age in years, image path, cup-to-disc ratio … */
  readonly details: Readonly<Record<string, string | number>>;
}

export interface MedicalSample extends SampleRecord {
  readonly image: RasterImage;
}

/** A dataset: all records up front, images produced one at a time. */
export interface MedicalDataset {
  readonly name: string;
  readonly attributes: readonly SensitiveAttribute[];
  readonly findings: readonly string[];
  readonly records: readonly SampleRecord[];
  readonly width: number;
  readonly height: number;
  readonly channels: ChannelCount;
  /** Produces sample `index` with its image (decoded from disk, or rendered). */
  load(index: number): Promise<MedicalSample>;
}

export function checkIndex(dataset: { records: readonly unknown[]; name: string }, index: number) {
  if (!Number.isInteger(index) || index < 0 || index >= dataset.records.length) {
    throw new Error(
      `sample index ${index} is out of range for dataset "${dataset.name}" (0..${dataset.records.length - 1})`,
    );
  }
}
