/**
 * Reconstruction PSNR of the autoencoder per subgroup: if the autoencoder serves some groups
 * worse, every image the diffusion model makes for them starts from a worse latent space.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { MedicalSample } from "../data/medicalSample";
import { psnr, psnrByGroup } from "../models/psnr";
import { imagesToTensor, type LatentDiffusionModel } from "./latentDiffusionModel";

export interface ReconstructionQuality {
  /** Mean PSNR (dB, images in [−1, 1]) over all samples. */
  overall: number;
  n: number;
  /** attribute → group → mean PSNR and image count. */
  byAttribute: Record<string, Record<string, { mean: number; count: number }>>;
}

export async function reconstructionPsnr(
  model: LatentDiffusionModel,
  samples: MedicalSample[],
  attributes: string[],
): Promise<ReconstructionQuality> {
  const { imageSize, imageChannels } = model.config;
  const values: number[] = [];
  for (let start = 0; start < samples.length; start += 64) {
    const chunk = samples.slice(start, start + 64);
    const images = imagesToTensor(
      chunk.map((s) => s.image),
      imageSize,
      imageChannels,
    );
    const reconstructed = tf.tidy(() =>
      model.autoencoder.decode(model.autoencoder.encode(images).mean),
    );
    values.push(...(await psnr(images, reconstructed)));
    tf.dispose([images, reconstructed]);
  }
  const byAttribute: ReconstructionQuality["byAttribute"] = {};
  for (const attribute of attributes) {
    byAttribute[attribute] = psnrByGroup(
      values,
      samples.map((s) => s.attributes[attribute] ?? "unknown"),
    );
  }
  return {
    overall: values.reduce((a, b) => a + b, 0) / values.length,
    n: values.length,
    byAttribute,
  };
}
