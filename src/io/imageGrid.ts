/** Tiles equally sized images into one grid image (row-major), with a gap and magnification. */
import { createRaster, type RasterImage } from "./rasterImage";

export function tileImages(
  images: RasterImage[],
  options: { columns?: number; gap?: number; scale?: number; background?: number } = {},
): RasterImage {
  if (images.length === 0) throw new Error("no images to tile");
  const { width, height, channels } = images[0];
  const columns = options.columns ?? gridColumns(images.length);
  const rows = Math.ceil(images.length / columns);
  const gap = options.gap ?? 2;
  const scale = options.scale ?? 1;
  const cellW = width * scale;
  const cellH = height * scale;
  const out = createRaster(
    columns * cellW + (columns + 1) * gap,
    rows * cellH + (rows + 1) * gap,
    channels,
    options.background ?? 0.15,
  );
  images.forEach((image, n) => {
    if (image.width !== width || image.height !== height || image.channels !== channels) {
      throw new Error(
        `image ${n} is ${image.width}×${image.height}×${image.channels}, expected ${width}×${height}×${channels}`,
      );
    }
    const x0 = gap + (n % columns) * (cellW + gap);
    const y0 = gap + Math.floor(n / columns) * (cellH + gap);
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const src = (Math.floor(y / scale) * width + Math.floor(x / scale)) * channels;
        const dst = ((y0 + y) * out.width + x0 + x) * channels;
        for (let c = 0; c < channels; c++) out.data[dst + c] = image.data[src + c];
      }
    }
  });
  return out;
}

/**
 * Columns for n images: the squarest layout with no empty cell (8 → 4 × 2, not 3 × 3 with a grey
 * hole), else ⌈√n⌉ columns when no layout up to twice as wide fills exactly.
 */
export function gridColumns(n: number): number {
  const square = Math.ceil(Math.sqrt(n));
  for (let columns = square; columns <= 2 * square; columns++) {
    if (n % columns === 0) return columns;
  }
  return square;
}

/** A [B, H, W, C] array in [0, 1] (as generated) → one RasterImage per image. */
export function rastersFromBatch(values: Float32Array, shape: number[]): RasterImage[] {
  const [batch, height, width, channels] = shape;
  if (channels !== 1 && channels !== 3)
    throw new Error(`images must have 1 or 3 channels, got ${channels}`);
  const per = height * width * channels;
  return Array.from({ length: batch }, (_, i) => ({
    width,
    height,
    channels: channels as 1 | 3,
    data: values.slice(i * per, (i + 1) * per),
  }));
}
