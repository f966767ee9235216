/**
 * WGSL for sums over a workgroup's invocations (a tree in workgroup memory, a fixed order: the
 * same floats every run), of one float or two at once. `workgroupSum(local, value)` and
 * `workgroupSum2(local, pair)` must be reached by every invocation of the workgroup (uniform
 * control flow) and may be called again: each waits before returning until all have read the
 * total.
 */
export function workgroupSumWgsl(size: number): string {
  return `
var<workgroup> partialSums : array<vec2<f32>, ${size}>;
fn workgroupSum2(local : u32, value : vec2<f32>) -> vec2<f32> {
  partialSums[local] = value;
  workgroupBarrier();
  for (var stride = ${size / 2}u; stride > 0u; stride = stride / 2u) {
    if (local < stride) { partialSums[local] = partialSums[local] + partialSums[local + stride]; }
    workgroupBarrier();
  }
  let total = partialSums[0];
  workgroupBarrier();
  return total;
}
fn workgroupSum(local : u32, value : f32) -> f32 {
  return workgroupSum2(local, vec2<f32>(value, 0.0)).x;
}`;
}
