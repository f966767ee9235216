// A run of native kernel calls as data: each command names its operation, the arrays it reads
// and writes (by index into a table of heap buffers) and its integer and float parameters. One
// call runs a whole run of them, so a replayed training step crosses from JavaScript into native
// code once per run of native kernels instead of once per kernel
// (src/backend/nativeKernels/nativeCommands.ts writes them; the layouts below are its too).
//
// A command: op, arrayCount, arrayCount buffer indices (-1: absent), intCount, ints, floatCount,
// floats (as their bits). A table entry: two int32 — the buffer's byte offset in the heap (as
// uint32) and its length in floats; or, where the length is negative (~floats), the buffer's
// float offset in the call's outside region: memory beyond the heap that the commands write
// directly (a data-parallel replica's gradient share, which other threads then read).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace fairdiff {

enum class CommandOp : int32_t {
  // [a, b, c, bias?, residual?] · [batch, m, n, k, transposeA, transposeB, strideA, strideB,
  // activation]: c[i] = op(a[i])·op(b[i]) (+ bias) (+ residual[i]).
  kGemm = 0,
  // [x, filter, bias?, y, addend?] · ConvShape's 15 fields, activation, rowsPerAddendRow.
  kConvForward = 1,
  // [dy, filter, dx] · ConvShape's 15 fields.
  kConvBackpropInput = 2,
  // [x, dy, dfilter] · ConvShape's 15 fields.
  kConvBackpropFilter = 3,
  // [x, gamma, beta, y] · [rows, spatial, channels, groups, silu] · [epsilon].
  kNormForward = 4,
  // [dy, x, gamma, beta, dx, dgamma, dbeta] · as kNormForward.
  kNormBackward = 5,
  // [x, y] · [n, kind (0 SiLU, 1 GELU)].
  kActivationForward = 6,
  // [dy, x, dx] · [n, kind].
  kActivationBackward = 7,
  // [q, k, v, keyMask?, out] · [batch, queries, keys, heads, headDim] · [scale].
  kAttentionForward = 8,
  // [q, k, v, keyMask?, dy, dq, dk, dv] · as kAttentionForward.
  kAttentionBackward = 9,
  // [out] · [n] · [value].
  kFill = 10,
  // [x, out] · [batch, rows, width, batchStride]: out[i] = the sum of x[i]'s rows (each image's
  // rows start batchStride floats after the last's), added as the matrix product of a row of
  // ones with them — a bias's gradient.
  kColumnSums = 11,
  // [from, to] · [rows, width, fromStart, fromStride, toStart, toStride]: rows blocks of width
  // floats (a concat's or a split's rows).
  kCopyRows = 12,
  // [a, b, out] · [op (BinaryOp), rank, 6 dims, 6 strides of a, 6 of b]: out = a op b, broadcast
  // (broadcast.h; dims past the rank are ignored).
  kBinary = 13,
  // [x, out] · [rank, 6 dims, reduced dims (bit d: dim d), divisor]: a sum or a mean over them.
  kReduceSum = 14,
};

// How many operations there are (an addon built before one was added knows fewer).
constexpr int32_t kCommandOps = 15;

// How many memory regions a table may name: the heap and the outside region.
constexpr int32_t kCommandRegions = 2;

// A region of memory the commands' arrays lie in.
struct MemoryRegion {
  char* data;
  size_t bytes;
};

// Runs the commands in [begin, end) of `commands` (int32 offsets); their arrays are table
// entries on `heap` or `outside` (empty where the call has none). Every command is checked
// before it runs — its layout, and every array inside its region and as long as its shape needs —
// and the first that fails stops the run: its message is returned (empty when all ran).
std::string runCommands(MemoryRegion heap, MemoryRegion outside, const int32_t* table,
                        size_t tableEntries, const int32_t* commands, size_t commandLength,
                        size_t begin, size_t end);

}  // namespace fairdiff
