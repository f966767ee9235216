// Elementwise arithmetic of two arrays broadcast against each other, and sums over any axes:
// what a training step's loss, time embedding and nearest-neighbour upsampling (a broadcast
// Add forward, a Sum over the repeated axes back) ask of tfjs's Add / Sub / Multiply / RealDiv,
// Sum and Mean, where tfjs-wasm transposes before every reduction.
#pragma once
#include <cstdint>

namespace fairdiff {

constexpr int kMaxBroadcastRank = 6;

enum class BinaryOp : int32_t { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

// out[i] = a[i·aStrides] op b[i·bStrides] over out's `rank` dims (row-major); a stride of 0
// repeats that operand along the dim.
void binaryBroadcast(BinaryOp op, int rank, const int64_t* dims, const int64_t* aStrides,
                     const int64_t* bStrides, const float* a, const float* b, float* out);

// out = the sum of x over the dims in `reduced` (bit d: dim d) / divisor (1 for a sum, the count
// for a mean), kept dims in order; each output's sum is taken in double, in x's order.
void reduceSum(int rank, const int64_t* dims, uint32_t reduced, int64_t divisor, const float* x,
               float* out);

}  // namespace fairdiff
