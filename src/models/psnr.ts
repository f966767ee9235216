/**
 * Peak signal-to-noise ratio per image, 10·log10(range² / MSE), for reconstruction quality
 * overall and per subgroup (the caller groups the per-image values).
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * reference, reconstruction: [B, H, W, C] on the same scale; dataRange is max − min of that
 * scale (2 for images in [−1, 1], the default; 1 for [0, 1]; 255 for bytes). Returns B values
 * in dB (Infinity for an exact reconstruction).
 */
export async function psnr(
  reference: tf.Tensor4D,
  reconstruction: tf.Tensor4D,
  dataRange = 2,
): Promise<Float64Array> {
  if (!tf.util.arraysEqual(reference.shape, reconstruction.shape)) {
    throw new Error(
      `psnr needs equal shapes, got [${reference.shape}] and [${reconstruction.shape}]`,
    );
  }
  if (!(dataRange > 0)) throw new Error(`dataRange must be positive, got ${dataRange}`);
  const mse = tf.tidy(() => tf.mean(tf.squaredDifference(reference, reconstruction), [1, 2, 3]));
  const values = await mse.data();
  mse.dispose();
  return Float64Array.from(values, (m) => 10 * Math.log10((dataRange * dataRange) / m));
}

/** Mean PSNR per group label (e.g. sex or age band), with the image count behind each mean. */
export function psnrByGroup(
  values: ArrayLike<number>,
  groups: ArrayLike<string>,
): Record<string, { mean: number; count: number }> {
  if (values.length !== groups.length) {
    throw new Error(`${values.length} PSNR values but ${groups.length} group labels`);
  }
  const sums: Record<string, { mean: number; count: number }> = {};
  for (let i = 0; i < values.length; i++) {
    const entry = (sums[groups[i]] ??= { mean: 0, count: 0 });
    entry.mean += values[i];
    entry.count += 1;
  }
  for (const entry of Object.values(sums)) entry.mean /= entry.count;
  return sums;
}
