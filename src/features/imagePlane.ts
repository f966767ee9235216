/**
 * One channel of one image as the radiomic features read it: row-major values in [0, 1]. The
 * features are computed per plane; `imagePlanes` makes the planes of a batch, on luminance or
 * per channel.
 */
export interface ImagePlane {
  readonly width: number;
  readonly height: number;
  /** length width × height, row-major, values in [0, 1] (clamped by `planeFromChannel`). */
  readonly data: Float64Array;
}

export type RadiomicColourMode = "luminance" | "per-channel";

// Captured once: under jest's vm sandbox a global lookup (Math) in a per-pixel loop costs ~40×.
const floor = Math.floor;

/** ITU-R BT.601 weights, as PIL's convert("L") and src/io/rasterImage.ts toGrayscale. */
const LUMA = [0.299, 0.587, 0.114];

function clampUnit(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * The planes of image `index` in an NHWC batch: one luminance plane (1 channel: the channel
 * itself; 3 channels: BT.601 luma; any other count: the channel mean), or one plane per channel.
 */
export function imagePlanes(
  values: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  index: number,
  mode: RadiomicColourMode,
): ImagePlane[] {
  const [, height, width, channels] = shape;
  const pixels = width * height;
  const base = index * pixels * channels;
  if (mode === "per-channel") {
    return Array.from({ length: channels }, (_, c) => {
      const data = new Float64Array(pixels);
      for (let p = 0; p < pixels; p++) data[p] = clampUnit(values[base + p * channels + c]);
      return { width, height, data };
    });
  }
  const weights = channels === 3 ? LUMA : new Array<number>(channels).fill(1 / channels);
  const data = new Float64Array(pixels);
  for (let p = 0; p < pixels; p++) {
    let v = 0;
    for (let c = 0; c < channels; c++) v += weights[c] * values[base + p * channels + c];
    data[p] = clampUnit(v);
  }
  return [{ width, height, data }];
}

/** Grey level of a value in [0, 1] on `levels` equal bins of the fixed range [0, 1]. */
export function greyLevel(value: number, levels: number): number {
  const level = floor(value * levels);
  return level >= levels ? levels - 1 : level < 0 ? 0 : level;
}

/** Every pixel's grey level (see `greyLevel`). */
export function quantisePlane(plane: ImagePlane, levels: number): Int32Array {
  const out = new Int32Array(plane.data.length);
  for (let p = 0; p < out.length; p++) out[p] = greyLevel(plane.data[p], levels);
  return out;
}
