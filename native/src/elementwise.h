// Elementwise arithmetic over arrays of one length, on the build's widest vectors: what a
// gradient's accumulation (tfjs's Add of two same-shape tensors) needs without a tensor record.
#pragma once
#include <cstdint>

namespace fairdiff {

// out = a + b, n elements (out may be a or b).
void addArrays(int64_t n, const float* a, const float* b, float* out);

}  // namespace fairdiff
