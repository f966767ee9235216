// Group normalisation (GroupNorm over NHWC, LayerNorm over the last axis) with scale, shift and
// an optional SiLU, forward and backward, on x viewed as [rows, spatial, channels]
// (src/backend/fusedKernels/fusedNorm.ts has the arithmetic).
#pragma once
#include <cstdint>

namespace fairdiff {

struct NormShape {
  int64_t rows, spatial, channels, groups;
  float epsilon;
  bool silu;
};

void normForward(const NormShape& s, const float* x, const float* gamma, const float* beta,
                 float* y);
void normBackward(const NormShape& s, const float* dy, const float* x, const float* gamma,
                  const float* beta, float* dx, float* dgamma, float* dbeta);

}  // namespace fairdiff
