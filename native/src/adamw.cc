#include "adamw.h"

#include <cmath>

namespace fairdiff {
namespace {

// Built without fused multiply-adds (binding.gyp's fairdiff_exact): the update rounds exactly as
// the JavaScript one does. Vectorised in double by the compiler.
struct Update {
  double decay, oneMinusBeta1, oneMinusBeta2, stepSize, inverseCorrection2;
  const AdamWSettings& a;

  explicit Update(const AdamWSettings& settings)
      : decay(1 - settings.learningRate * settings.weightDecay),
        oneMinusBeta1(1 - settings.beta1),
        oneMinusBeta2(1 - settings.beta2),
        stepSize(settings.learningRate / settings.correction1),
        inverseCorrection2(1 / settings.correction2),
        a(settings) {}

  // One element: the new moments (as doubles, rounded by the caller) and the new parameter.
  float step(float p, float g, float m, float v, double* mj, double* vj) const {
    const double gj = g * a.gradientScale;
    *mj = a.beta1 * m + oneMinusBeta1 * gj;
    *vj = a.beta2 * v + oneMinusBeta2 * gj * gj;
    return static_cast<float>(p * decay -
                              (stepSize * *mj) / (std::sqrt(*vj * inverseCorrection2) + a.epsilon));
  }
};

// value − value is 0 when finite, NaN for NaN and ±Inf (a form the compiler vectorises).
inline int64_t notFinite(float value) { return value - value != 0.f ? 1 : 0; }

}  // namespace

int64_t adamWUpdate(const AdamWSettings& a, int64_t n, const float* __restrict p,
                    const float* __restrict g, const float* __restrict m,
                    const float* __restrict v, float* __restrict pOut, float* __restrict mOut,
                    float* __restrict vOut) {
  const Update update(a);
  int64_t nonFinite = 0;
  for (int64_t j = 0; j < n; ++j) {
    double mj, vj;
    const float value = update.step(p[j], g[j], m[j], v[j], &mj, &vj);
    mOut[j] = static_cast<float>(mj);
    vOut[j] = static_cast<float>(vj);
    pOut[j] = value;
    nonFinite += notFinite(value);
  }
  return nonFinite;
}

int64_t adamWNonFinite(const AdamWSettings& a, int64_t n, const float* p, const float* g,
                       const float* m, const float* v) {
  const Update update(a);
  int64_t nonFinite = 0;
  for (int64_t j = 0; j < n; ++j) {
    double mj, vj;
    nonFinite += notFinite(update.step(p[j], g[j], m[j], v[j], &mj, &vj));
  }
  return nonFinite;
}

void adamWInPlace(const AdamWSettings& a, int64_t n, float* p, const float* g, float* m,
                  float* v) {
  const Update update(a);
  for (int64_t j = 0; j < n; ++j) {
    double mj, vj;
    p[j] = update.step(p[j], g[j], m[j], v[j], &mj, &vj);
    m[j] = static_cast<float>(mj);
    v[j] = static_cast<float>(vj);
  }
}

}  // namespace fairdiff
