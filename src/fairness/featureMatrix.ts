/**
 * Per-image features as one row-major Float64 matrix, and picking some of its rows. FID and KID
 * figures name their images by row index into such a matrix, so a group's figure is computed
 * from the same extracted features as the overall one, without copying them per group.
 */

/** Row-major n × dimension features of one image set. */
export interface FeatureMatrix {
  values: Float64Array;
  dimension: number;
}

/** Number of rows of `features`; throws when the values do not fill whole rows. */
export function featureRowCount(features: FeatureMatrix, name = "features"): number {
  const { values, dimension } = features;
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new Error(`${name}.dimension must be a positive integer, got ${dimension}`);
  }
  if (values.length % dimension !== 0) {
    throw new Error(
      `${name} has ${values.length} values, not a whole number of rows of ${dimension}`,
    );
  }
  return values.length / dimension;
}

/** The given rows of `features`, copied into one contiguous matrix (in the order given). */
export function gatherRows(
  features: FeatureMatrix,
  rows: ArrayLike<number>,
  name = "features",
): Float64Array {
  const { values, dimension: d } = features;
  const count = featureRowCount(features, name);
  const out = new Float64Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Number.isInteger(row) || row < 0 || row >= count) {
      throw new Error(`${name} row ${i} is ${row}, not a row index in [0, ${count})`);
    }
    out.set(values.subarray(row * d, (row + 1) * d), i * d);
  }
  return out;
}
