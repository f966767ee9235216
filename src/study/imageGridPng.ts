/**
 * Generated images as one PNG grid, for a notebook cell (`display.png(...)`) or a file: a static
 * figure that survives nbconvert's HTML export.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { encodePng } from "../io/imageCodec";
import { rastersFromBatch, tileImages } from "../io/imageGrid";
import type { RasterImage } from "../io/rasterImage";

export interface ImageGridOptions {
  columns?: number;
  /** Pixel magnification (default 3: 32×32 images become 96×96). */
  scale?: number;
  gap?: number;
}

export async function imageGridPng(
  images: tf.Tensor4D | RasterImage[],
  options: ImageGridOptions = {},
): Promise<Uint8Array> {
  const rasters = Array.isArray(images)
    ? images
    : rastersFromBatch(Float32Array.from(await images.data()), images.shape);
  return encodePng(
    tileImages(rasters, {
      columns: options.columns ?? Math.min(8, rasters.length),
      scale: options.scale ?? 3,
      gap: options.gap ?? 2,
    }),
  );
}
