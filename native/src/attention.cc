#include "attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "threadPool.h"
#include "vectorMath.h"

namespace fairdiff {
namespace {

// The additive bias of a hidden key (large and finite: no NaN when every key is hidden).
constexpr float kMasked = 1e9f;

// One (image, head) pair's rows: row i of a [B, T, H·d] tensor's head h starts at
// base + i·stride.
struct Head {
  const float* q;
  const float* k;
  const float* v;
  const float* mask;  // [M] or null
  int64_t stride;
};

Head headOf(const AttentionShape& s, const float* q, const float* k, const float* v,
            const float* keyMask, int64_t pair) {
  const int64_t b = pair / s.heads, h = pair % s.heads;
  const int64_t stride = s.heads * s.headDim;
  return {q + b * s.queries * stride + h * s.headDim, k + b * s.keys * stride + h * s.headDim,
          v + b * s.keys * stride + h * s.headDim, keyMask ? keyMask + b * s.keys : nullptr,
          stride};
}

// Vectors of keys per row: a row of weights holds `padded` floats, zero-filled past the keys.
int64_t paddedKeys(const AttentionShape& s) {
  return (s.keys + kMathLanes - 1) / kMathLanes * kMathLanes;
}

// t [d, padded] = the pair's keys (or values) transposed, zero past the last key: a query's
// scores against every key are then headDim vector multiply-adds, not a dot product per key.
void transposeKeys(const AttentionShape& s, const float* keys, int64_t stride, float* t) {
  const int64_t padded = paddedKeys(s);
  for (int64_t d = 0; d < s.headDim; ++d) {
    float* out = t + d * padded;
    for (int64_t j = 0; j < s.keys; ++j) out[j] = keys[j * stride + d];
    std::fill(out + s.keys, out + padded, 0.f);
  }
}

// out[o, 0:n] = Σ_t a[o·aOut + t·aTerm] · rows[t·rowStride + 0:n] for o < outputs, out's rows
// outStride apart: every product of an attention pair is one of these.
struct Sums {
  const float* a;
  int64_t aOut, aTerm;
  const float* rows;
  int64_t rowStride, terms, n;
};

// G outputs at a time share each row's load and keep G independent sums in flight (one sum
// alone is a chain of dependent multiply-adds).
template <int G>
void groupSums(const Sums& s, const float* a, float* out, int64_t outStride) {
  int64_t d = 0;
  for (; d + kMathLanes <= s.n; d += kMathLanes) {
    FloatVec acc[G] = {};
    for (int64_t t = 0; t < s.terms; ++t) {
      const FloatVec row = loadVec(s.rows + t * s.rowStride + d);
      for (int g = 0; g < G; ++g) acc[g] += a[g * s.aOut + t * s.aTerm] * row;
    }
    for (int g = 0; g < G; ++g) storeVec(out + g * outStride + d, acc[g]);
  }
  for (; d < s.n; ++d) {
    float acc[G] = {};
    for (int64_t t = 0; t < s.terms; ++t) {
      const float row = s.rows[t * s.rowStride + d];
      for (int g = 0; g < G; ++g) acc[g] += a[g * s.aOut + t * s.aTerm] * row;
    }
    for (int g = 0; g < G; ++g) out[g * outStride + d] = acc[g];
  }
}

void weightedSums(const Sums& s, int64_t outputs, float* out, int64_t outStride) {
  int64_t o = 0;
  for (; o + 4 <= outputs; o += 4) {
    groupSums<4>(s, s.a + o * s.aOut, out + o * outStride, outStride);
  }
  for (; o < outputs; ++o) groupSums<1>(s, s.a + o * s.aOut, out + o * outStride, outStride);
}

// bias[0:padded]: (mask − 1)·1e9 for each key (0 without a mask), −∞ past the last key, so
// that a padding lane never wins the maximum and its weight comes out 0.
void keyBiasOf(const AttentionShape& s, const Head& hd, float* bias) {
  for (int64_t j = 0; j < s.keys; ++j) bias[j] = hd.mask ? (hd.mask[j] - 1.f) * kMasked : 0.f;
  std::fill(bias + s.keys, bias + paddedKeys(s), -INFINITY);
}

// w [N, padded] = softmax over keys of q·kᵀ·scale + (mask − 1)·1e9, as the composed kernels
// order it (kt: the pair's keys transposed; bias from keyBiasOf); 0 past the last key.
void weightsOf(const AttentionShape& s, const Head& hd, const float* kt, const float* bias,
               float* w) {
  const int64_t padded = paddedKeys(s);
  // Stage by stage over all the rows: each stage's rows are independent, so the core overlaps
  // them (one row at a time is a chain of dependent steps).
  weightedSums({hd.q, hd.stride, 1, kt, padded, s.headDim, padded}, s.queries, w, padded);
  for (int64_t i = 0; i < s.queries; ++i) {
    float* row = w + i * padded;
    FloatVec top = FloatVec{} - INFINITY;
    for (int64_t c = 0; c < padded; c += kMathLanes) {
      const FloatVec score = loadVec(row + c) * s.scale + loadVec(bias + c);
      storeVec(row + c, score);
      top = top > score ? top : score;
    }
    const float most = horizontalMax(top);
    FloatVec total{};
    for (int64_t c = 0; c < padded; c += kMathLanes) {
      const FloatVec e = expVec(loadVec(row + c) - most);
      storeVec(row + c, e);
      total += e;
    }
    const float inverse = 1.f / horizontalSum(total);
    for (int64_t c = 0; c < padded; c += kMathLanes) storeVec(row + c, loadVec(row + c) * inverse);
  }
}

// Runs body(pair) for every (image, head) pair, on the pool in up to 16 runs of pairs when there
// is enough work to share (a pair alone is too little to hand out).
template <typename Body>
void forEachPair(const AttentionShape& s, Body body) {
  const int64_t pairs = s.batch * s.heads;
  const int64_t work = pairs * s.queries * s.keys * s.headDim;
  const int64_t runs = std::min<int64_t>(pairs, 16);
  parallelFor(
      static_cast<int>(runs),
      [&](int run) {
        for (int64_t pair = pairs * run / runs; pair < pairs * (run + 1) / runs; ++pair) {
          body(pair);
        }
      },
      work >= (int64_t{1} << 15));
}

thread_local std::vector<float> weightScratch;
thread_local std::vector<float> gradientScratch;
thread_local std::vector<float> keyScratch;
thread_local std::vector<float> valueScratch;
thread_local std::vector<float> biasScratch;

float* scratchOf(std::vector<float>& buffer, int64_t n) {
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
  return buffer.data();
}

}  // namespace

void attentionForward(const AttentionShape& s, const float* q, const float* k, const float* v,
                      const float* keyMask, float* out) {
  forEachPair(s, [&](int64_t pair) {
    const Head hd = headOf(s, q, k, v, keyMask, pair);
    const int64_t padded = paddedKeys(s);
    float* kt = scratchOf(keyScratch, s.headDim * padded);
    float* w = scratchOf(weightScratch, s.queries * padded);
    float* bias = scratchOf(biasScratch, padded);
    transposeKeys(s, hd.k, hd.stride, kt);
    keyBiasOf(s, hd, bias);
    weightsOf(s, hd, kt, bias, w);
    float* o = out + (hd.q - q);
    weightedSums({w, padded, 1, hd.v, hd.stride, s.keys, s.headDim}, s.queries, o, hd.stride);
  });
}

// dV = wᵀ·dO, dW = dO·vᵀ, dS = w ⊙ (dW − Σ_keys dW ⊙ w)·scale, dQ = dS·k, dK = dSᵀ·q
void attentionBackward(const AttentionShape& s, const float* q, const float* k, const float* v,
                       const float* keyMask, const float* dy, float* dq, float* dk, float* dv) {
  forEachPair(s, [&](int64_t pair) {
    const Head hd = headOf(s, q, k, v, keyMask, pair);
    const int64_t offsetQ = hd.q - q, offsetK = hd.k - k;
    const int64_t padded = paddedKeys(s);
    float* kt = scratchOf(keyScratch, s.headDim * padded);
    float* vt = scratchOf(valueScratch, s.headDim * padded);
    float* w = scratchOf(weightScratch, s.queries * padded);
    float* dS = scratchOf(gradientScratch, s.queries * padded);
    transposeKeys(s, hd.k, hd.stride, kt);
    transposeKeys(s, hd.v, hd.stride, vt);
    float* bias = scratchOf(biasScratch, padded);
    keyBiasOf(s, hd, bias);
    weightsOf(s, hd, kt, bias, w);
    const float* dO = dy + offsetQ;
    float* dQ = dq + offsetQ;
    float* dK = dk + offsetK;
    float* dV = dv + offsetK;
    // dW = dO·vᵀ, then dS row by row, in place.
    weightedSums({dO, hd.stride, 1, vt, padded, s.headDim, padded}, s.queries, dS, padded);
    for (int64_t i = 0; i < s.queries; ++i) {
      const float* wi = w + i * padded;
      float* dSi = dS + i * padded;
      FloatVec dots{};
      for (int64_t c = 0; c < padded; c += kMathLanes) dots += loadVec(dSi + c) * loadVec(wi + c);
      const float rowDot = horizontalSum(dots);
      for (int64_t c = 0; c < padded; c += kMathLanes) {
        storeVec(dSi + c, loadVec(wi + c) * (loadVec(dSi + c) - rowDot) * s.scale);
      }
    }
    weightedSums({dS, padded, 1, hd.k, hd.stride, s.keys, s.headDim}, s.queries, dQ, hd.stride);
    weightedSums({w, 1, padded, dO, hd.stride, s.queries, s.headDim}, s.keys, dV, hd.stride);
    weightedSums({dS, 1, padded, hd.q, hd.stride, s.queries, s.headDim}, s.keys, dK, hd.stride);
  });
}

}  // namespace fairdiff
