/**
 * SHA-256 fingerprints that tie an audit to exactly what it ran on: the checkpoint files, the
 * weights in memory (a model trained in a notebook has no file) and the real images a quality
 * audit compared against.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type { RasterImage } from "../io/rasterImage";
import type { NamedWeights } from "../models/module";

/** SHA-256 (hex) of a file's bytes, read in chunks; the error names the file it cannot read. */
export function sha256File(file: string): string {
  const hash = createHash("sha256");
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (error) {
    throw new Error(`cannot read "${file}" to fingerprint it: ${(error as Error).message}`);
  }
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      hash.update(chunk.subarray(0, read));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}

/** SHA-256 of named float32 weights, in name order, each with its name and length. */
export function sha256Weights(weights: NamedWeights): string {
  const hash = createHash("sha256");
  for (const name of Object.keys(weights).sort()) {
    const values = weights[name];
    hash.update(`${name}:${values.length};`);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest("hex");
}

/**
 * SHA-256 of images in order: each image's size, channels and float32 pixels. A batch tensor
 * [n, h, w, c] hashes the same as the same images given as rasters.
 */
export async function sha256Images(images: Iterable<RasterImage> | tf.Tensor4D): Promise<string> {
  const hash = createHash("sha256");
  const add = (width: number, height: number, channels: number, data: Float32Array) => {
    hash.update(`${width}x${height}x${channels};`);
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  };
  if (images instanceof tf.Tensor) {
    const [n, height, width, channels] = images.shape;
    const values = (await images.data()) as Float32Array;
    const per = height * width * channels;
    for (let i = 0; i < n; i++)
      add(width, height, channels, values.subarray(i * per, (i + 1) * per));
  } else {
    for (const image of images) add(image.width, image.height, image.channels, image.data);
  }
  return hash.digest("hex");
}
