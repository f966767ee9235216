// Multi-head scaled dot-product attention, softmax(q·kᵀ·scale + mask bias)·v, forward and
// backward in one pass over each (image, head) pair, reading the heads where they lie in the
// [B, T, H·d] tensors (no head split or merge copies). The arithmetic is that of
// src/backend/fusedKernels/fusedAttention.ts.
#pragma once
#include <cstdint>

namespace fairdiff {

struct AttentionShape {
  int64_t batch, queries, keys, heads, headDim;
  float scale;
};

// out [B, N, H·d]; keyMask [B, M] (1 keeps a key, 0 hides it) or null.
void attentionForward(const AttentionShape& s, const float* q, const float* k, const float* v,
                      const float* keyMask, float* out);

// dq [B, N, H·d], dk and dv [B, M, H·d] from dy [B, N, H·d]; the weights are recomputed.
void attentionBackward(const AttentionShape& s, const float* q, const float* k, const float* v,
                       const float* keyMask, const float* dy, float* dq, float* dk, float* dv);

}  // namespace fairdiff
