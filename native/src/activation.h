// SiLU and GELU (its tanh form as a logistic) and their gradients, elementwise on the build's
// widest vectors (src/backend/fusedKernels/fusedActivation.ts has the arithmetic).
#pragma once
#include <cstdint>

namespace fairdiff {

enum class Pointwise : int32_t { kSilu = 0, kGelu = 1 };

void activationForward(Pointwise kind, int64_t n, const float* x, float* y);
void activationBackward(Pointwise kind, int64_t n, const float* dy, const float* x, float* dx);

}  // namespace fairdiff
