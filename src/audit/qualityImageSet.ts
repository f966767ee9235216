/**
 * The labelled image sets a quality audit compares: images with, per image, its groups
 * (attribute → group), its finding labels (finding → 0/1) and, for real images, the prompt a
 * generated counterpart is drawn from. Helpers build them from dataset samples, from prompts
 * (for generated images: the groups and findings the prompt names), and a held-out real set of
 * a training preset's cohort.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createSyntheticCohort } from "../data/cohorts/syntheticCohort";
import type { MedicalSample } from "../data/medicalSample";
import type { GroupAssignment, SensitiveAttribute } from "../data/subgroups";
import type { RasterImage } from "../io/rasterImage";
import type { TrainingPreset } from "../pipeline/presets";
import { namedGroup } from "./promptAdherence";
import { requestedFinding } from "./representationAudit";

export interface LabelledImages {
  /** Images in [0, 1]: rasters, or an NHWC tensor the caller owns (the audit never disposes it). */
  images: RasterImage[] | tf.Tensor4D;
  /** Per image: attribute → group; an attribute that is unknown for an image is absent. */
  attributes: GroupAssignment[];
  /** Per image: finding → 1 (present) or 0 (absent); unknown findings are absent. */
  labels: Readonly<Record<string, number>>[];
  /** Per image: the prompt a generated counterpart is drawn from (real images). */
  prompts?: string[];
}

export function imageCount(images: RasterImage[] | tf.Tensor4D): number {
  return Array.isArray(images) ? images.length : images.shape[0];
}

/** [height, width, channels] of the set, checking every raster has the same size. */
export function imageShape(
  images: RasterImage[] | tf.Tensor4D,
  name: string,
): [number, number, number] {
  if (!Array.isArray(images)) {
    if (images.rank !== 4) {
      throw new Error(`${name} must be a [n, h, w, c] tensor, got [${images.shape.join(", ")}]`);
    }
    return [images.shape[1], images.shape[2], images.shape[3]];
  }
  if (images.length === 0) throw new Error(`${name} has no images`);
  const { width, height, channels } = images[0];
  images.forEach((image, i) => {
    if (image.width !== width || image.height !== height || image.channels !== channels) {
      throw new Error(
        `${name}[${i}] is ${image.width}×${image.height}×${image.channels}, ${name}[0] is ${width}×${height}×${channels}`,
      );
    }
  });
  return [height, width, channels];
}

/** Images start … start+count−1 as a new tensor (the caller disposes it). */
export function imageBatch(
  images: RasterImage[] | tf.Tensor4D,
  start: number,
  count: number,
): tf.Tensor4D {
  if (!Array.isArray(images)) {
    return images.slice([start, 0, 0, 0], [count, -1, -1, -1]) as tf.Tensor4D;
  }
  const [h, w, c] = [images[0].height, images[0].width, images[0].channels];
  const per = h * w * c;
  const values = new Float32Array(count * per);
  for (let i = 0; i < count; i++) values.set(images[start + i].data, i * per);
  return tf.tensor4d(values, [count, h, w, c]);
}

/** Checks that every per-image list has one entry per image. */
export function checkLabelledImages(set: LabelledImages, name: string): number {
  const n = imageCount(set.images);
  if (n === 0) throw new Error(`${name} has no images`);
  if (set.attributes.length !== n) {
    throw new Error(`${name} has ${n} images but ${set.attributes.length} attribute entries`);
  }
  if (set.labels.length !== n) {
    throw new Error(`${name} has ${n} images but ${set.labels.length} label entries`);
  }
  if (set.prompts !== undefined && set.prompts.length !== n) {
    throw new Error(`${name} has ${n} images but ${set.prompts.length} prompts`);
  }
  return n;
}

/** A labelled set from dataset samples (a real cohort split or a loader's samples). */
export function labelledImagesFromSamples(samples: readonly MedicalSample[]): LabelledImages {
  return {
    images: samples.map((s) => s.image),
    attributes: samples.map((s) => s.attributes),
    labels: samples.map((s) => s.labels),
    prompts: samples.map((s) => s.prompt),
  };
}

/**
 * Groups and findings read from prompts: the group of each attribute the prompt names (as
 * `namedGroup` reads it) and each finding it asks for ("… with X" → 1, "… non X" → 0).
 */
export function labelsFromPrompts(
  prompts: readonly string[],
  attributes: readonly SensitiveAttribute[],
  findings: readonly string[],
): { attributes: GroupAssignment[]; labels: Record<string, number>[] } {
  return {
    attributes: prompts.map((prompt) => {
      const out: Record<string, string> = {};
      for (const a of attributes) {
        const group = namedGroup(prompt, a.groups);
        if (group !== undefined) out[a.name] = group;
      }
      return out;
    }),
    labels: prompts.map((prompt) => {
      const out: Record<string, number> = {};
      for (const f of findings) {
        const requested = requestedFinding(prompt, f);
        if (requested !== undefined) out[f] = requested ? 1 : 0;
      }
      return out;
    }),
  };
}

/** Pre-generated images labelled by the prompts they were generated from. */
export function labelledImagesFromPrompts(
  images: RasterImage[] | tf.Tensor4D,
  prompts: string[],
  attributes: readonly SensitiveAttribute[],
  findings: readonly string[],
): LabelledImages {
  if (imageCount(images) !== prompts.length) {
    throw new Error(`${imageCount(images)} images but ${prompts.length} prompts`);
  }
  return { images, prompts, ...labelsFromPrompts(prompts, attributes, findings) };
}

export interface HeldOutOptions {
  size: number;
  /** Must differ from the preset's training cohort seed (else the images are training images). */
  seed: number;
  /** Proportions (default: the preset's own mix, so real and training data match). */
  mix?: TrainingPreset["mix"];
}

/**
 * Real images for a quality audit of a preset's model: a fresh draw of the preset's synthetic
 * cohort (same renderer, same mix unless told) from another seed — held out from training.
 * Captions are the full ones (every attribute and the finding named).
 */
export function heldOutRealSamples(
  preset: TrainingPreset,
  options: HeldOutOptions,
): MedicalSample[] {
  if (options.seed === preset.cohortSeed) {
    throw new Error(
      `held-out seed ${options.seed} is the ${preset.name} training cohort's seed: those images were trained on`,
    );
  }
  const cohort = createSyntheticCohort({
    cohort: preset.cohort,
    size: options.size,
    seed: options.seed,
    imageSize: preset.model.imageSize,
    mix: options.mix ?? preset.mix,
  });
  return cohort.records.map((_, i) => cohort.sampleAt(i));
}

/**
 * The images a preset's model was trained on, as training rendered them (the same cohort: size,
 * seed, mix), with their groups: the first `count` (default all) — what the memorisation audit
 * searches for near-copies. With a description for the report.
 */
export function presetTrainingImages(
  preset: TrainingPreset,
  count: number = preset.cohortSize,
): { images: LabelledImages; description: string } {
  if (!Number.isInteger(count) || count < 1 || count > preset.cohortSize) {
    throw new Error(
      `training images: ${preset.name} was trained on ${preset.cohortSize} images; asked for ${count}`,
    );
  }
  const cohort = createSyntheticCohort({
    cohort: preset.cohort,
    size: preset.cohortSize,
    seed: preset.cohortSeed,
    imageSize: preset.model.imageSize,
    mix: preset.mix,
  });
  const samples = Array.from({ length: count }, (_, i) => cohort.sampleAt(i));
  return {
    images: labelledImagesFromSamples(samples),
    description:
      count === preset.cohortSize
        ? `the ${count} images ${preset.name} was trained on (${preset.cohort} cohort, seed ${preset.cohortSeed})`
        : `the first ${count} of the ${preset.cohortSize} images ${preset.name} was trained on (${preset.cohort} cohort, seed ${preset.cohortSeed})`,
  };
}
