/**
 * Embedded synthetic cohorts: generated on the fly from a seed, any size, no files. Labels and
 * prompts for every sample are fixed up front (cheap); an image is rendered when asked for,
 * from its own random stream, so sample i is the same whatever else is generated.
 */
import { createRaster } from "../../io/rasterImage";
import { createRng } from "../../util/random";
import {
  checkIndex,
  type MedicalDataset,
  type MedicalSample,
  type SampleRecord,
} from "../medicalSample";
import { chestRadiographCohort } from "./chestRadiograph";
import type { CohortDefinition, CohortName } from "./cohortDefinition";
import { assignSubjects, resolveMix, type CohortMix } from "./cohortMix";
import { dermoscopyCohort } from "./dermoscopy";
import { fundusCohort } from "./fundus";

export const COHORTS: Readonly<Record<CohortName, CohortDefinition>> = {
  cxr: chestRadiographCohort,
  derm: dermoscopyCohort,
  fundus: fundusCohort,
};

export function cohortDefinition(name: string): CohortDefinition {
  const definition = COHORTS[name as CohortName];
  if (!definition) {
    throw new Error(`unknown cohort "${name}" (known: ${Object.keys(COHORTS).join(", ")})`);
  }
  return definition;
}

export interface SyntheticCohortOptions {
  cohort: CohortName;
  /** Number of samples. */
  size: number;
  seed: number;
  /** Image width and height in pixels (default 32). */
  imageSize?: number;
  /** Proportions, overall and conditional on findings (defaults: the cohort's). */
  mix?: CohortMix;
}

export interface SyntheticCohort extends MedicalDataset {
  readonly definition: CohortDefinition;
  readonly seed: number;
  /** Renders sample `index` synchronously. */
  sampleAt(index: number): MedicalSample;
}

export const DEFAULT_IMAGE_SIZE = 32;

export function createSyntheticCohort(options: SyntheticCohortOptions): SyntheticCohort {
  const definition = cohortDefinition(options.cohort);
  const { size, seed } = options;
  if (!Number.isInteger(size) || size < 0) {
    throw new Error(`cohort size must be a non-negative integer, got ${size}`);
  }
  const imageSize = options.imageSize ?? DEFAULT_IMAGE_SIZE;
  if (!Number.isInteger(imageSize) || imageSize < 8 || imageSize > 1024) {
    throw new Error(`imageSize must be an integer in [8, 1024], got ${imageSize}`);
  }
  const root = createRng(seed);
  const mix = resolveMix(definition, options.mix);
  const subjects = assignSubjects(mix, definition.findings, size, root.fork("assignment"));
  const records: SampleRecord[] = subjects.map((subject, index) => {
    const details = definition.describe(subject, root.fork(`details:${index}`));
    return {
      id: `${definition.name}-${seed}-${index}`,
      attributes: subject.attributes,
      labels: subject.labels,
      prompt: definition.prompt(subject, details),
      details,
    };
  });

  const sampleAt = (index: number): MedicalSample => {
    checkIndex(cohort, index);
    const record = records[index];
    const image = createRaster(imageSize, imageSize, definition.channels);
    definition.render(image, record, record.details, root.fork(`pixels:${index}`));
    return { ...record, image };
  };
  const cohort: SyntheticCohort = {
    name: `synthetic-${definition.name}`,
    definition,
    seed,
    attributes: definition.attributes,
    findings: definition.findings,
    records,
    width: imageSize,
    height: imageSize,
    channels: definition.channels,
    sampleAt,
    load: async (index) => sampleAt(index),
  };
  return cohort;
}

/** All samples of a synthetic cohort, rendered now. */
export function generateCohort(options: SyntheticCohortOptions): MedicalSample[] {
  const cohort = createSyntheticCohort(options);
  return cohort.records.map((_, i) => cohort.sampleAt(i));
}
