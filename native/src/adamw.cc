#include "adamw.h"

#include <cmath>

namespace fairdiff {

// No fused multiply-adds here: the update rounds exactly as the JavaScript one does.
__attribute__((optimize("fp-contract=off"))) int64_t adamWUpdate(
    const AdamWSettings& a, int64_t n, const float* p, const float* g, const float* m,
    const float* v, float* pOut, float* mOut, float* vOut) {
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
    nonFinite += std::isfinite(value) ? 0 : 1;
  }
  return nonFinite;
}

}  // namespace fairdiff
