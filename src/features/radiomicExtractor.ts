/**
 * A weight-free feature extractor after the Fréchet Radiomic Distance idea (Konz et al., arXiv
 * 2412.01496): hand-defined radiomic features instead of a network's activations, so a figure
 * needs no weights and every dimension has a meaning. Per plane, in this order:
 *
 * - first-order intensity (13): see firstOrderFeatures.ts;
 * - GLCM texture (10): contrast, dissimilarity, homogeneity, ASM, correlation at distances 1 and
 *   2, averaged over 0°/45°/90°/135°, 16 fixed grey levels on [0, 1]: see glcmFeatures.ts;
 * - shape of the Otsu foreground mask (9): see shapeFeatures.ts.
 *
 * Colour: "luminance" (default) computes one set of 32 features on the BT.601 luma (grayscale
 * images: on the image itself), so the dimension does not depend on the channel count;
 * "per-channel" computes the 32 features of each channel and concatenates them (32 × channels).
 *
 * The features are in fixed units of the [0, 1] intensity scale and of the image's extent, not
 * standardised: each Fréchet distance weighs a feature by its natural spread (kurtosis and
 * entropy vary most). FRD's published feature set is larger (PyRadiomics' full list); this is a
 * documented, smaller subset, so figures are not comparable with published FRD values.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { assertImageBatch, type FeatureExtractor } from "./featureExtractor";
import { FIRST_ORDER_FEATURES, firstOrderFeatures } from "./firstOrderFeatures";
import { GLCM_FEATURES, glcmFeatures } from "./glcmFeatures";
import { imagePlanes, type ImagePlane, type RadiomicColourMode } from "./imagePlane";
import { SHAPE_FEATURES, shapeFeatures } from "./shapeFeatures";

export const RADIOMIC_VERSION = "radiomic-v1";

/** The 32 features of one plane, in output order. */
export const RADIOMIC_FEATURES: readonly string[] = [
  ...FIRST_ORDER_FEATURES,
  ...GLCM_FEATURES,
  ...SHAPE_FEATURES,
];

export interface RadiomicOptions {
  /** "luminance" (default): 32 features; "per-channel": 32 per channel, channel-major. */
  colour?: RadiomicColourMode;
  /** Channels of the images it will see; needed up front for the per-channel dimension (default 1). */
  channels?: number;
}

/** The features of one plane (RADIOMIC_FEATURES order). */
export function radiomicFeatures(plane: ImagePlane): number[] {
  if (plane.width < 3 || plane.height < 3) {
    throw new Error(
      `radiomic features need images of at least 3×3 pixels (GLCM distance 2), got ${plane.width}×${plane.height}`,
    );
  }
  return [...firstOrderFeatures(plane), ...glcmFeatures(plane), ...shapeFeatures(plane)];
}

/** Feature names of an extractor with these options, e.g. "c1.glcmContrastD1" per channel. */
export function radiomicFeatureNames(options: RadiomicOptions = {}): string[] {
  if ((options.colour ?? "luminance") === "luminance") return [...RADIOMIC_FEATURES];
  const channels = options.channels ?? 1;
  return Array.from({ length: channels }, (_, c) =>
    RADIOMIC_FEATURES.map((name) => `c${c}.${name}`),
  ).flat();
}

export function radiomicExtractor(options: RadiomicOptions = {}): FeatureExtractor {
  const colour = options.colour ?? "luminance";
  if (colour !== "luminance" && colour !== "per-channel") {
    throw new Error(`colour must be "luminance" or "per-channel", got "${String(colour)}"`);
  }
  const channels = options.channels ?? 1;
  if (!Number.isInteger(channels) || channels < 1) {
    throw new Error(`channels must be a positive integer, got ${channels}`);
  }
  const perPlane = RADIOMIC_FEATURES.length;
  const dimension = colour === "luminance" ? perPlane : perPlane * channels;
  const name = colour === "luminance" ? RADIOMIC_VERSION : `${RADIOMIC_VERSION}-per-channel`;
  return {
    info: {
      name,
      kind: "radiomic",
      dimension,
      description:
        `${perPlane} radiomic features (13 first-order, 10 GLCM texture, 9 foreground shape)` +
        (colour === "luminance" ? " on luminance" : ` per channel × ${channels}`) +
        "; weight-free, after the Fréchet Radiomic Distance",
    },
    async extract(images: tf.Tensor4D): Promise<Float64Array> {
      assertImageBatch(images, name);
      const shape = images.shape;
      if (colour === "per-channel" && shape[3] !== channels) {
        throw new Error(
          `${name}: images have ${shape[3]} channels, the extractor was made for ${channels}`,
        );
      }
      const values = await images.data();
      const out = new Float64Array(shape[0] * dimension);
      for (let i = 0; i < shape[0]; i++) {
        let offset = i * dimension;
        for (const plane of imagePlanes(values, shape, i, colour)) {
          const features = radiomicFeatures(plane);
          out.set(features, offset);
          offset += features.length;
        }
      }
      return out;
    },
    dispose(): void {},
  };
}
