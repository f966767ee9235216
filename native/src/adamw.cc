#include "adamw.h"

#include <cmath>

namespace fairdiff {

// Built without fused multiply-adds (binding.gyp's fairdiff_exact): the update rounds exactly as
// the JavaScript one does. Vectorised in double by the compiler.
int64_t adamWUpdate(const AdamWSettings& a, int64_t n, const float* __restrict p,
                    const float* __restrict g, const float* __restrict m,
                    const float* __restrict v, float* __restrict pOut, float* __restrict mOut,
                    float* __restrict vOut) {
  const double decay = 1 - a.learningRate * a.weightDecay;
  const double oneMinusBeta1 = 1 - a.beta1, oneMinusBeta2 = 1 - a.beta2;
  const double stepSize = a.learningRate / a.correction1;
  const double inverseCorrection2 = 1 / a.correction2;
  int64_t nonFinite = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double gj = g[j] * a.gradientScale;
    const double mj = a.beta1 * m[j] + oneMinusBeta1 * gj;
    const double vj = a.beta2 * v[j] + oneMinusBeta2 * gj * gj;
    mOut[j] = static_cast<float>(mj);
    vOut[j] = static_cast<float>(vj);
    const float value = static_cast<float>(p[j] * decay -
                                           (stepSize * mj) / (std::sqrt(vj * inverseCorrection2) + a.epsilon));
    pOut[j] = value;
    // value − value is 0 when finite, NaN for NaN and ±Inf (a form the compiler vectorises).
    nonFinite += value - value != 0.f ? 1 : 0;
  }
  return nonFinite;
}

}  // namespace fairdiff
