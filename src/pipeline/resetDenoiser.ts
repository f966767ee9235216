/**
 * Training the denoiser from scratch — FairDiffusion's other setting — on a model whose
 * autoencoder and text encoder are already trained: only the UNet is re-initialised, seeded, in
 * place. Stage 1 (the autoencoder) and the text encoder are kept so the latents and the prompt
 * embeddings the new UNet learns from stay those of the trained model.
 */
import { UNet } from "../models/unet";
import { createRng } from "../util/random";
import type { LatentDiffusionModel } from "./latentDiffusionModel";

export async function resetDenoiser(model: LatentDiffusionModel, seed: number): Promise<void> {
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const fresh = new UNet(model.config.unet, createRng(seed).fork("unet"));
  try {
    model.unet.setWeights(await fresh.getWeights());
  } finally {
    fresh.dispose();
  }
}
