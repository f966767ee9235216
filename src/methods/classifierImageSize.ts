/**
 * A mitigation method scores the model's images with the subgroup classifier, so both must work
 * on images of one size; checked before any training, naming both sizes.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";

export function checkClassifierReadsModelImages(
  classifier: SubgroupClassifier,
  model: LatentDiffusionModel,
): void {
  const net = classifier.network.config;
  const { imageSize, imageChannels } = model.config;
  if (net.imageSize !== imageSize || net.imageChannels !== imageChannels) {
    throw new Error(
      `the classifier reads ${net.imageSize}×${net.imageSize}×${net.imageChannels} images, the model makes ${imageSize}×${imageSize}×${imageChannels}`,
    );
  }
}
