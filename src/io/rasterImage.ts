/**
 * The in-memory image type shared by loaders, synthetic cohorts and encoders: row-major HWC
 * float32 in [0, 1], 1 (grayscale) or 3 (RGB) channels. Plain typed arrays so that generation
 * and decoding need no tfjs; a batch becomes a tensor in one copy.
 */
export type ChannelCount = 1 | 3;

export interface RasterImage {
  readonly width: number;
  readonly height: number;
  readonly channels: ChannelCount;
  /** length = width × height × channels, values in [0, 1]. */
  readonly data: Float32Array;
}

export function createRaster(
  width: number,
  height: number,
  channels: ChannelCount,
  fill = 0,
): RasterImage {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new Error(`image size must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) {
    throw new Error(`channels must be 1 or 3, got ${String(channels)}`);
  }
  const data = new Float32Array(width * height * channels);
  if (fill !== 0) data.fill(fill);
  return { width, height, channels, data };
}

/** ITU-R BT.601 luma, the weights PIL's convert("L") uses. */
export function toGrayscale(image: RasterImage): RasterImage {
  if (image.channels === 1) return image;
  const out = createRaster(image.width, image.height, 1);
  const src = image.data;
  for (let i = 0, j = 0; j < out.data.length; i += 3, j++) {
    out.data[j] = 0.299 * src[i] + 0.587 * src[i + 1] + 0.114 * src[i + 2];
  }
  return out;
}

export function toRgb(image: RasterImage): RasterImage {
  if (image.channels === 3) return image;
  const out = createRaster(image.width, image.height, 3);
  for (let j = 0, i = 0; j < image.data.length; j++, i += 3) {
    const v = image.data[j];
    out.data[i] = v;
    out.data[i + 1] = v;
    out.data[i + 2] = v;
  }
  return out;
}

export function withChannels(image: RasterImage, channels: ChannelCount): RasterImage {
  return channels === 1 ? toGrayscale(image) : toRgb(image);
}

/** Clamps every value into [0, 1] in place (drawing can overshoot). */
export function clampUnit(image: RasterImage): RasterImage {
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] < 0 ? 0 : d[i] > 1 ? 1 : d[i];
  return image;
}
