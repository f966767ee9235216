/**
 * Resizing for loaders: area averaging when shrinking (no aliasing from 1024-px radiographs down
 * to 32 px) and bilinear interpolation when enlarging.
 */
import { createRaster, type RasterImage } from "./rasterImage";

export function resizeImage(image: RasterImage, width: number, height: number): RasterImage {
  if (image.width === width && image.height === height) return image;
  const out = createRaster(width, height, image.channels);
  const c = image.channels;
  const sx = image.width / width;
  const sy = image.height / height;
  const src = image.data;
  const dst = out.data;
  if (sx >= 1 && sy >= 1) {
    // Area average: each output pixel is the coverage-weighted mean of the source box.
    for (let y = 0; y < height; y++) {
      const y0 = y * sy;
      const y1 = y0 + sy;
      for (let x = 0; x < width; x++) {
        const x0 = x * sx;
        const x1 = x0 + sx;
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          for (let yy = Math.floor(y0); yy < Math.ceil(y1); yy++) {
            const wy = Math.min(yy + 1, y1) - Math.max(yy, y0);
            for (let xx = Math.floor(x0); xx < Math.ceil(x1); xx++) {
              const wx = Math.min(xx + 1, x1) - Math.max(xx, x0);
              sum += wx * wy * src[(yy * image.width + xx) * c + ch];
            }
          }
          dst[(y * width + x) * c + ch] = sum / (sx * sy);
        }
      }
    }
    return out;
  }
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const tx = fx - x0;
      for (let ch = 0; ch < c; ch++) {
        const a = src[(y0 * image.width + x0) * c + ch];
        const b = src[(y0 * image.width + x1) * c + ch];
        const d = src[(y1 * image.width + x0) * c + ch];
        const e = src[(y1 * image.width + x1) * c + ch];
        dst[(y * width + x) * c + ch] =
          (a * (1 - tx) + b * tx) * (1 - ty) + (d * (1 - tx) + e * tx) * ty;
      }
    }
  }
  return out;
}
