#include "broadcast.h"

#include <vector>

#include "threadPool.h"

namespace fairdiff {
namespace {

template <BinaryOp Op>
inline float apply(float a, float b) {
  if constexpr (Op == BinaryOp::kAdd) return a + b;
  if constexpr (Op == BinaryOp::kSub) return a - b;
  if constexpr (Op == BinaryOp::kMul) return a * b;
  return a / b;
}

// The innermost dim, its strides 0 or 1 each: loops the compiler vectorises.
template <BinaryOp Op>
void row(int64_t n, const float* a, int64_t sa, const float* b, int64_t sb, float* out) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float y = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(a[i], y);
  } else if (sa == 0 && sb == 1) {
    const float x = *a;
    for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(x, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = apply<Op>(a[i * sa], b[i * sb]);
  }
}

// Calls body(outer index, offset in a, offset in b) for every row of out (all dims but the last),
// in order.
template <typename Body>
void eachRow(int rank, const int64_t* dims, const int64_t* sa, const int64_t* sb, Body body) {
  int64_t index[kMaxBroadcastRank] = {};
  int64_t rows = 1;
  for (int d = 0; d + 1 < rank; ++d) rows *= dims[d];
  int64_t offA = 0, offB = 0;
  for (int64_t r = 0; r < rows; ++r) {
    body(r, offA, offB);
    for (int d = rank - 2; d >= 0; --d) {
      offA += sa[d];
      offB += sb[d];
      if (++index[d] < dims[d]) break;
      offA -= sa[d] * dims[d];
      offB -= sb[d] * dims[d];
      index[d] = 0;
    }
  }
}

template <BinaryOp Op>
void binary(int rank, const int64_t* dims, const int64_t* sa, const int64_t* sb, const float* a,
            const float* b, float* out) {
  if (rank == 0) {
    *out = apply<Op>(*a, *b);
    return;
  }
  const int64_t n = dims[rank - 1];
  if (rank == 1 && sa[0] == 1 && sb[0] == 1) {
    // One contiguous run (same shapes): in chunks on the pool.
    forEachChunk(n, [&](int64_t first, int64_t length) {
      row<Op>(length, a + first, 1, b + first, 1, out + first);
    });
    return;
  }
  eachRow(rank, dims, sa, sb, [&](int64_t r, int64_t offA, int64_t offB) {
    row<Op>(n, a + offA, sa[rank - 1], b + offB, sb[rank - 1], out + r * n);
  });
}

}  // namespace

void binaryBroadcast(BinaryOp op, int rank, const int64_t* dims, const int64_t* aStrides,
                     const int64_t* bStrides, const float* a, const float* b, float* out) {
  switch (op) {
    case BinaryOp::kAdd: return binary<BinaryOp::kAdd>(rank, dims, aStrides, bStrides, a, b, out);
    case BinaryOp::kSub: return binary<BinaryOp::kSub>(rank, dims, aStrides, bStrides, a, b, out);
    case BinaryOp::kMul: return binary<BinaryOp::kMul>(rank, dims, aStrides, bStrides, a, b, out);
    case BinaryOp::kDiv: return binary<BinaryOp::kDiv>(rank, dims, aStrides, bStrides, a, b, out);
  }
}

void reduceSum(int rank, const int64_t* dims, uint32_t reduced, int64_t divisor, const float* x,
               float* out) {
  // Each input dim's stride in the output (0 where it is summed over).
  int64_t outStrides[kMaxBroadcastRank] = {};
  int64_t outSize = 1;
  for (int d = rank - 1; d >= 0; --d) {
    if (reduced & (1u << d)) continue;
    outStrides[d] = outSize;
    outSize *= dims[d];
  }
  std::vector<double> sums(static_cast<size_t>(outSize), 0.0);
  if (rank == 0) {
    sums[0] = *x;
  } else {
    const int64_t n = dims[rank - 1], so = outStrides[rank - 1];
    const int64_t zero[kMaxBroadcastRank] = {};
    eachRow(rank, dims, outStrides, zero, [&](int64_t r, int64_t offOut, int64_t) {
      const float* in = x + r * n;
      double* to = sums.data() + offOut;
      if (so == 0) {
        double total = 0;
        for (int64_t i = 0; i < n; ++i) total += in[i];
        *to += total;
      } else {
        for (int64_t i = 0; i < n; ++i) to[i] += in[i];
      }
    });
  }
  for (int64_t i = 0; i < outSize; ++i) out[i] = static_cast<float>(sums[i] / static_cast<double>(divisor));
}

}  // namespace fairdiff
