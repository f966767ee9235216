#include "adamw.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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

  // The most a new parameter can move per unit of |m′|: |step| / ε, where v′ ≥ 0 makes the
  // denominator √(v′·c) + ε at least ε. With ε ≤ 0, or a negative bias correction, it has no
  // floor: infinite (nothing can be proved).
  double stepPerEpsilon() const {
    const bool floored = a.epsilon > 0 && inverseCorrection2 >= 0;
    return floored ? std::fabs(stepSize) / a.epsilon : INFINITY;
  }

  // One element: the new moments (as doubles, rounded by the caller) and the new parameter.
  float step(float p, float g, float m, float v, double* mj, double* vj) const {
    const double gj = g * a.gradientScale;
    *mj = a.beta1 * m + oneMinusBeta1 * gj;
    *vj = a.beta2 * v + oneMinusBeta2 * gj * gj;
    return static_cast<float>(p * decay -
                              (stepSize * *mj) / (std::sqrt(*vj * inverseCorrection2) + a.epsilon));
  }
};

// In-place updates run over chunks this long, reading back what they wrote while it is in
// cache.
constexpr int64_t kChunk = 1024;

// value − value is 0 when finite, NaN for NaN and ±Inf (a form the compiler vectorises).
inline int64_t notFinite(float value) { return value - value != 0.f ? 1 : 0; }

constexpr double kSafe = 1e38;  // float's largest is 3.4e38: rounding cannot cross it
constexpr uint32_t kLargestFinite = 0x7f7fffff;
constexpr uint32_t kMagnitude = 0x7fffffff;

inline uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline double floatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// The bits of the gradient's largest |element| (NaN's bits exceed every other).
uint32_t largestMagnitude(const float* g, int64_t n) {
  uint32_t largest = 0;
  for (int64_t i = 0; i < n; ++i) largest = std::max(largest, bitsOf(g[i]) & kMagnitude);
  return largest;
}

// Whether bounds on p, m, v and |g| prove every new parameter finite: v ≥ 0 and β2 in [0, 1]
// keep v′ ≥ 0, so |p′| ≤ |decay|·|p| + |m′|·stepPerEpsilon with |m′| ≤ |β1|·|m| + |1 − β1|·|g·s|.
bool provedFinite(const AdamWSettings& a, const Update& u, const AdamWBounds& known,
                  uint32_t gradientBits) {
  if (std::max({gradientBits, known.param, known.first, known.second}) > kLargestFinite) {
    return false;
  }
  if (!(a.beta2 >= 0 && a.beta2 <= 1)) return false;
  const double g = floatOf(gradientBits) * std::fabs(a.gradientScale);
  const double m = std::fabs(a.beta1) * floatOf(known.first) + std::fabs(u.oneMinusBeta1) * g;
  const double v = a.beta2 * floatOf(known.second) + u.oneMinusBeta2 * g * g;
  const double p = std::fabs(u.decay) * floatOf(known.param) + u.stepPerEpsilon() * m;
  return m < kSafe && v < kSafe && p < kSafe;  // NaN and an unfloored step fail
}

// sumOfSquares and sumIntoFirst keep eight running totals in double, one per lane, so that
// their loops vectorise without reordering any one total.
constexpr int kLanes = 8;

// Adds x[j]² over n elements to the lanes (from a multiple of kLanes, so lanes stay aligned).
void addSquares(const float* x, int64_t n, double (&lanes)[kLanes]) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] += static_cast<double>(x[i + l]) * x[i + l];
  }
  for (; i < n; ++i) lanes[0] += static_cast<double>(x[i]) * x[i];
}

double totalOf(const double (&lanes)[kLanes]) {
  double total = 0;
  for (double lane : lanes) total += lane;
  return total;
}

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
                       const float* m, const float* v, const AdamWBounds* known) {
  const Update update(a);
  // The gradient alone (a quarter of the bytes) where the last update's bounds settle it.
  if (known && provedFinite(a, update, *known, largestMagnitude(g, n))) return 0;
  // A new parameter is surely finite when the moments it divides are finite, v′ ≥ 0 and
  // |p·decay| + |m′|·stepPerEpsilon stays far below float's largest: the exact update (a square
  // root and a division per element, the pass's cost) runs only for blocks where that bound does
  // not hold — the same count, a fraction of the work.
  const double decay = std::fabs(update.decay);
  const double step = update.stepPerEpsilon();
  constexpr int64_t kBlock = 256;
  int64_t nonFinite = 0;
  for (int64_t b0 = 0; b0 < n; b0 += kBlock) {
    const int64_t end = std::min(n, b0 + kBlock);
    int64_t unsure = 0;
    for (int64_t i = b0; i < end; ++i) {
      const double gj = g[i] * a.gradientScale;
      const double mj = a.beta1 * m[i] + update.oneMinusBeta1 * gj;
      const double vj = a.beta2 * v[i] + update.oneMinusBeta2 * gj * gj;
      const double bound = std::fabs(static_cast<double>(p[i])) * decay + std::fabs(mj) * step;
      // Comparisons that NaN fails; & rather than && keeps the loop branch-free (vectorised).
      const bool safe = (bound < kSafe) & (vj >= 0) & (vj < INFINITY);
      unsure += safe ? 0 : 1;
    }
    if (unsure == 0) continue;
    for (int64_t i = b0; i < end; ++i) {
      double mj, vj;
      nonFinite += notFinite(update.step(p[i], g[i], m[i], v[i], &mj, &vj));
    }
  }
  return nonFinite;
}

void adamWInPlace(const AdamWSettings& a, int64_t n, float* p, const float* g, float* m,
                  float* v, AdamWBounds* bounds, float* published) {
  const Update update(a);
  AdamWBounds left{0, 0, 0};
  for (int64_t first = 0; first < n; first += kChunk) {
    const int64_t count = std::min(kChunk, n - first);
    float *pc = p + first, *mc = m + first, *vc = v + first;
    const float* gradient = g + first;
    for (int64_t i = 0; i < count; ++i) {
      double mj, vj;
      pc[i] = update.step(pc[i], gradient[i], mc[i], vc[i], &mj, &vj);
      mc[i] = static_cast<float>(mj);
      vc[i] = static_cast<float>(vj);
    }
    // Read back while the chunk is in cache (the update's own loop stays as it vectorises).
    for (int64_t i = 0; i < count; ++i) {
      left.param = std::max(left.param, bitsOf(pc[i]) & kMagnitude);
      left.first = std::max(left.first, bitsOf(mc[i]) & kMagnitude);
      left.second = std::max(left.second, bitsOf(vc[i]));
    }
    if (published) std::memcpy(published + first, pc, static_cast<size_t>(count) * sizeof(float));
  }
  if (bounds) *bounds = left;
}

double sumOfSquares(const float* x, int64_t n) {
  double lanes[kLanes] = {};
  addSquares(x, n, lanes);
  return totalOf(lanes);
}

double sumIntoFirst(float* const* x, int sources, int64_t n) {
  // A piece is summed, then squared while it is in L1 (a source-by-source loop vectorises).
  constexpr int64_t kPiece = 1024;
  double lanes[kLanes] = {};
  for (int64_t start = 0; start < n; start += kPiece) {
    const int64_t count = std::min(kPiece, n - start);
    float* __restrict sum = x[0] + start;
    for (int s = 1; s < sources; ++s) {
      const float* __restrict add = x[s] + start;
      for (int64_t j = 0; j < count; ++j) sum[j] += add[j];
    }
    addSquares(sum, count, lanes);
  }
  return totalOf(lanes);
}

}  // namespace fairdiff
