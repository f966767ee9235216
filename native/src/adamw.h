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

// What an in-place update left in one tensor, as float bits: the largest |p| and |m|, and the
// largest v read as an unsigned integer (for non-negative floats the integer order is the float
// order; a negative or non-finite value reads above float's largest finite bits).
struct AdamWBounds {
  uint32_t param, first, second;
};

// How many of one tensor's new parameters would not be finite (nothing is written). `known`, the
// bounds the last update left in p, m and v (or null): where they and the gradient's largest
// magnitude prove every new parameter finite, only the gradient is read.
int64_t adamWNonFinite(const AdamWSettings& a, int64_t n, const float* p, const float* g,
                       const float* m, const float* v, const AdamWBounds* known);

// Updates one tensor's parameters and moments where they are (the same floats as adamWUpdate);
// writes what it leaves into `bounds` when given, and the new parameters also into `published`
// when given (a data-parallel replica's handover, written while they are in cache).
void adamWInPlace(const AdamWSettings& a, int64_t n, float* p, const float* g, float* m,
                  float* v, AdamWBounds* bounds, float* published = nullptr);

// Σ_j x[j]² over n elements, in double: a tensor's share of the squared L2 norm.
double sumOfSquares(const float* x, int64_t n);

// x[0][j] ← Σ_s x[s][j], added in source order in float, and returns Σ_j of the sums' squares in
// double: data-parallel replicas' gradient shares summed once, in one pass with their norm, so
// every replica's update then reads the one array.
double sumIntoFirst(float* const* x, int sources, int64_t n);

}  // namespace fairdiff
