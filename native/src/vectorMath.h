// Elementwise float math on the build's widest vectors (GCC/Clang vector extensions).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace fairdiff {

#if defined(__AVX512F__)
constexpr int kMathBytes = 64;
#elif defined(__AVX__)
constexpr int kMathBytes = 32;
#else
constexpr int kMathBytes = 16;
#endif

typedef float FloatVec __attribute__((vector_size(kMathBytes)));
typedef int IntVec __attribute__((vector_size(kMathBytes)));
constexpr int kMathLanes = kMathBytes / 4;

inline FloatVec loadVec(const float* p) {
  FloatVec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void storeVec(float* p, FloatVec v) { std::memcpy(p, &v, sizeof v); }

// e^x for |x| < 87 (clamped outside), ~2 ulp: 2^n · p(r) with x = n·ln2 + r, |r| ≤ ln2/2.
inline FloatVec expVec(FloatVec x) {
  x = x < 88.f ? x : FloatVec{} + 88.f;
  x = x > -88.f ? x : FloatVec{} - 88.f;
  const FloatVec n = __builtin_convertvector(
      __builtin_convertvector(x * 1.44269504088896341f + (x >= 0 ? 0.5f : -0.5f), IntVec),
      FloatVec);
  const FloatVec r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  FloatVec p = FloatVec{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const IntVec bits = (__builtin_convertvector(n, IntVec) + 127) << 23;
  FloatVec scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// σ(x) = 1 / (1 + e^−x)
inline FloatVec sigmoidVec(FloatVec x) { return 1.f / (1.f + expVec(-x)); }

// Calls body(offset, count) over [0, n) in whole vectors, then the tail (count < lanes).
template <typename Body>
void eachVector(int64_t n, Body body) {
  int64_t i = 0;
  for (; i + kMathLanes <= n; i += kMathLanes) body(i, kMathLanes);
  if (i < n) body(i, n - i);
}

// Loads `count` floats (a partial vector zero-filled).
inline FloatVec loadPart(const float* p, int64_t count) {
  if (count == kMathLanes) return loadVec(p);
  alignas(64) float tmp[kMathLanes] = {};
  for (int64_t i = 0; i < count; ++i) tmp[i] = p[i];
  return loadVec(tmp);
}

// Stores the first `count` floats of v.
inline void storePart(float* p, FloatVec v, int64_t count) {
  if (count == kMathLanes) return storeVec(p, v);
  alignas(64) float tmp[kMathLanes];
  storeVec(tmp, v);
  for (int64_t i = 0; i < count; ++i) p[i] = tmp[i];
}

// A vector's lanes reduced: in registers with AVX-512; elsewhere lane by lane.
#if defined(__AVX512F__)
inline float horizontalSum(FloatVec v) { return _mm512_reduce_add_ps(reinterpret_cast<__m512>(v)); }
inline float horizontalMax(FloatVec v) { return _mm512_reduce_max_ps(reinterpret_cast<__m512>(v)); }
#else
inline float horizontalSum(FloatVec v) {
  float sum = 0.f;
  for (int lane = 0; lane < kMathLanes; ++lane) sum += v[lane];
  return sum;
}
inline float horizontalMax(FloatVec v) {
  float most = v[0];
  for (int lane = 1; lane < kMathLanes; ++lane) most = std::max(most, v[lane]);
  return most;
}
#endif

}  // namespace fairdiff
