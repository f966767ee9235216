// One AdamW step over many tensors (src/backend/fusedKernels/fusedAdamW.ts has the arithmetic,
// which this follows operation for operation in double precision, so both give the same floats).
#pragma once
#include <cstdint>

namespace fairdiff {

struct AdamWSettings {
  double learningRate, weightDecay, beta1, beta2, epsilon, correction1, correction2, gradientScale;
};

// Updates one tensor of n elements; returns how many new parameters are not finite.
int64_t adamWUpdate(const AdamWSettings& a, int64_t n, const float* p, const float* g,
                    const float* m, const float* v, float* pOut, float* mOut, float* vOut);

}  // namespace fairdiff
