#include "activation.h"

#include <algorithm>
#include <cstring>

#include "vectorMath.h"

namespace fairdiff {
namespace {

// GELU's logistic argument v = x·(c + c·k·x²), c = 2√(2/π), k = 0.044715.
constexpr float kGeluScale = 1.5957691216057308f;
constexpr float kGeluCubicScale = kGeluScale * 0.044715f;

// σ of the activation's logistic argument and that argument's slope, for a vector of x.
inline FloatVec logistic(Pointwise kind, FloatVec x, FloatVec* slope) {
  if (kind == Pointwise::kSilu) {
    *slope = FloatVec{} + 1.f;
    return sigmoidVec(x);
  }
  const FloatVec square = x * x;
  *slope = kGeluScale + (3.f * kGeluCubicScale) * square;
  return sigmoidVec(x * (kGeluScale + kGeluCubicScale * square));
}

// Calls body(offset, count) over [0, n) in whole vectors, the tail (count < lanes) padded with
// zeros by the body's loads.
template <typename Body>
void eachVector(int64_t n, Body body) {
  int64_t i = 0;
  for (; i + kMathLanes <= n; i += kMathLanes) body(i, kMathLanes);
  if (i < n) body(i, n - i);
}

inline FloatVec load(const float* p, int64_t count) {
  if (count == kMathLanes) return loadVec(p);
  float padded[kMathLanes] = {};
  std::memcpy(padded, p, count * sizeof(float));
  return loadVec(padded);
}

inline void store(float* p, FloatVec v, int64_t count) {
  if (count == kMathLanes) return storeVec(p, v);
  float padded[kMathLanes];
  storeVec(padded, v);
  std::memcpy(p, padded, count * sizeof(float));
}

}  // namespace

void activationForward(Pointwise kind, int64_t n, const float* x, float* y) {
  eachVector(n, [&](int64_t i, int64_t count) {
    const FloatVec v = load(x + i, count);
    FloatVec slope;
    store(y + i, v * logistic(kind, v, &slope), count);
  });
}

// d/dx x·σ(v) = σ(v) + x·σ(v)(1 − σ(v))·v′
void activationBackward(Pointwise kind, int64_t n, const float* dy, const float* x, float* dx) {
  eachVector(n, [&](int64_t i, int64_t count) {
    const FloatVec v = load(x + i, count);
    FloatVec slope;
    const FloatVec s = logistic(kind, v, &slope);
    store(dx + i, load(dy + i, count) * (s + v * s * (1.f - s) * slope), count);
  });
}

}  // namespace fairdiff
