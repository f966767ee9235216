#include "activation.h"

#include <algorithm>

#include "threadPool.h"
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

}  // namespace

void activationForward(Pointwise kind, int64_t n, const float* x, float* y) {
  forEachChunk(n, [&](int64_t first, int64_t length) {
    eachVector(length, [&](int64_t i, int64_t count) {
      const FloatVec v = loadPart(x + first + i, count);
      FloatVec slope;
      storePart(y + first + i, v * logistic(kind, v, &slope), count);
    });
  });
}

// d/dx x·σ(v) = σ(v) + x·σ(v)(1 − σ(v))·v′
void activationBackward(Pointwise kind, int64_t n, const float* dy, const float* x, float* dx) {
  forEachChunk(n, [&](int64_t first, int64_t length) {
    eachVector(length, [&](int64_t i, int64_t count) {
      const FloatVec v = loadPart(x + first + i, count);
      FloatVec slope;
      const FloatVec s = logistic(kind, v, &slope);
      const FloatVec gradient = loadPart(dy + first + i, count);
      storePart(dx + first + i, gradient * (s + v * s * (1.f - s) * slope), count);
    });
  });
}

}  // namespace fairdiff
