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

// A tensor's gradient as the sum of `sources` arrays (data-parallel replicas' shares), added
// in source order in float: g[0][j] + g[1][j] + … One source is the gradient itself.
struct GradientSum {
  const float* const* g;
  int sources;
};

// What an in-place update left in one tensor, as float bits: the largest |p| and |m|, and the
// largest v read as an unsigned integer (for non-negative floats the integer order is the float
// order; a negative or non-finite value reads above float's largest finite bits).
struct AdamWBounds {
  uint32_t param, first, second;
};

// How many of one tensor's new parameters would not be finite (nothing is written). `known`, the
// bounds the last update left in p, m and v (or null): where they and the gradient's largest
// magnitude prove every new parameter finite, only the gradient is read.
int64_t adamWNonFinite(const AdamWSettings& a, int64_t n, const float* p, GradientSum g,
                       const float* m, const float* v, const AdamWBounds* known);

// Updates one tensor's parameters and moments where they are (the same floats as adamWUpdate);
// writes what it leaves into `bounds` when given.
void adamWInPlace(const AdamWSettings& a, int64_t n, float* p, GradientSum g, float* m,
                  float* v, AdamWBounds* bounds);

// Σ_j (Σ_s x[s][j])² over n elements, the inner sum in float in source order (GradientSum's),
// the outer in double: the squared L2 norm of a sum of replicas' gradients.
double squaresOfSum(GradientSum x, int64_t n);

// squaresOfSum that also writes the sum over the first source: x[0][j] ← Σ_s x[s][j], added as
// GradientSum adds them. Data-parallel replicas' shares summed once, in one pass with the norm,
// so every replica's update then reads one array instead of adding them again.
double sumIntoFirst(float* const* x, int sources, int64_t n);

}  // namespace fairdiff
