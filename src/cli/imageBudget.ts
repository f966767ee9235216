/**
 * How many images a command may hold in memory at once. Sampling and auditing keep a prompt's
 * images together (one tensor, then rasters or classifier inputs); wasm's heap stops at 4 GiB and
 * a laptop has little to spare, so the budget is fixed and stated rather than discovered by an
 * out-of-memory crash after minutes of work.
 */
import { formatCount } from "./optionValues";

export const IMAGE_MEMORY_BUDGET_BYTES = 512 * 1024 * 1024;

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** The most images of `bytesPerImage` that fit the budget. */
export function imageCountLimit(bytesPerImage: number): number {
  return Math.max(1, Math.floor(IMAGE_MEMORY_BUDGET_BYTES / bytesPerImage));
}

/**
 * Refuses `count` images (given as `flag`) when they do not fit; `perImage` says what one image
 * costs, e.g. "32×32×1 float32 and a 96×96 grid cell".
 */
export function checkImageCount(
  flag: string,
  count: number,
  bytesPerImage: number,
  perImage: string,
): void {
  const limit = imageCountLimit(bytesPerImage);
  if (count > limit) {
    throw new Error(
      `${flag} ${formatCount(count)} needs ${formatBytes(count * bytesPerImage)} of images in memory at once (${formatBytes(bytesPerImage)} each: ${perImage}); at most ${formatCount(limit)} fit this command's ${formatBytes(IMAGE_MEMORY_BUDGET_BYTES)} budget`,
    );
  }
}
