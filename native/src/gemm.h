// Single-precision matrix product on packed panels (the BLIS loop structure), written with
// GCC/Clang vector extensions so the compiler emits the machine's widest FMA vectors
// (AVX-512, AVX2 or NEON) for the machine it is built on.
#pragma once
#include <cstdint>

namespace fairdiff {

enum class Activation { kLinear = 0, kRelu = 1 };

struct Matrix {
  const float* data;
  int64_t rowStride;  // elements between rows of the stored matrix
  bool transposed;    // stored as the transpose of the logical operand
};

// Added to C after the bias, before the activation: row i of C gets data[(i / rowsPerRow)·ld + j]
// — a residual of C's shape (rowsPerRow 1) or a row per image of pixels (a per-image shift).
struct Addend {
  const float* data = nullptr;
  int64_t ld = 0;
  int64_t rowsPerRow = 1;
};

// C[M,N] = A[M,K]·B[K,N] (+ C when accumulate) (+ bias[N]) (+ addend), then the activation.
// C is row-major with row stride ldc. Every element's sum runs over K in the same order
// whatever M, N or the thread count, so a row of C never depends on the other rows.
void gemm(int64_t m, int64_t n, int64_t k, Matrix a, Matrix b, float* c, int64_t ldc,
          bool accumulate, const float* bias, Activation activation, const Addend& addend = {});

// C[M,N] = A[M,K]·B[K,N] (+ bias[N]) (+ addend), then the activation, with each row of A
// `pieces` runs of `run` floats (K = pieces · run) read where they lie: row i's piece t at
// rowPieces[i·pieces + t], `zeros` (run floats of 0) where a piece is absent. A convolution's rows without im2col: each
// piece is one filter tap's input pixel (the indirect convolution of XNNPACK). Sums run over K in
// the same order whatever M, N or the thread count.
void gemmIndirect(int64_t m, int64_t n, int64_t pieces, int64_t run,
                  const float* const* rowPieces, const float* zeros, Matrix b, float* c,
                  int64_t ldc, const float* bias, Activation activation,
                  const Addend& addend = {});

// The same with B's K rows given in `partCount` parts of K / partCount rows each, stacked (part t
// is B's rows t·K/partCount on), each read where it lies in its own layout: a filter taken tap
// by tap, say, each tap's block transposed, without a copy of the whole filter first.
void gemmIndirect(int64_t m, int64_t n, int64_t pieces, int64_t run,
                  const float* const* rowPieces, const float* zeros, const Matrix* bParts,
                  int64_t partCount, float* c, int64_t ldc, const float* bias,
                  Activation activation, const Addend& addend = {});

// The vector width the build uses, in floats (for the backend's description).
int vectorFloats();

}  // namespace fairdiff
