#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "threadPool.h"

namespace fairdiff {
namespace {

#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
constexpr int kRows = 8;  // 16 accumulators of 32 registers
#elif defined(__AVX__)
constexpr int kVectorBytes = 32;
constexpr int kRows = 6;  // 12 accumulators of 16 registers
#else
constexpr int kVectorBytes = 16;
constexpr int kRows = 6;
#endif

typedef float Vec __attribute__((vector_size(kVectorBytes)));
constexpr int kLanes = kVectorBytes / 4;
constexpr int kCols = 2 * kLanes;  // a micro-tile is kRows × two vectors

// Cache blocking: a packed A block (kBlockM × kBlockK) stays in L2, a B panel in L3.
constexpr int64_t kBlockK = 256;
constexpr int64_t kBlockM = 16 * kRows;
constexpr int64_t kBlockN = 2048;
// The deepest K the indirect product takes in one pass (its B panel, K × kCols, stays in L2).
constexpr int64_t kIndirectDepth = 1024;

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

struct AlignedBuffer {
  float* data = nullptr;
  size_t size = 0;
  ~AlignedBuffer() { std::free(data); }
  float* reserve(size_t n) {
    if (n > size) {
      std::free(data);
      data = static_cast<float*>(std::aligned_alloc(64, ((n * 4 + 63) / 64) * 64));
      size = n;
    }
    return data;
  }
};

// Panels of kRows rows, k-major within a panel, zero-padded: row i's kc values from rowAt(i).
template <typename RowAt>
void packRowPanels(RowAt rowAt, int64_t i0, int64_t mc, int64_t kc, float* out) {
  for (int64_t ir = 0; ir < mc; ir += kRows) {
    const int64_t rows = std::min<int64_t>(kRows, mc - ir);
    float* panel = out + ir * kc;
    for (int64_t r = 0; r < kRows; ++r) {
      if (r < rows) {
        const float* src = rowAt(i0 + ir + r);
        for (int64_t p = 0; p < kc; ++p) panel[p * kRows + r] = src[p];
      } else {
        for (int64_t p = 0; p < kc; ++p) panel[p * kRows + r] = 0.f;
      }
    }
  }
}

// A[i0:i0+mc, p0:p0+kc] as panels of kRows rows, k-major within a panel, zero-padded.
void packA(const Matrix& a, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out) {
  if (!a.transposed) {
    packRowPanels([&](int64_t i) { return a.data + i * a.rowStride + p0; }, i0, mc, kc, out);
    return;
  }
  for (int64_t ir = 0; ir < mc; ir += kRows) {
    const int64_t rows = std::min<int64_t>(kRows, mc - ir);
    float* panel = out + ir * kc;
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = a.data + (p0 + p) * a.rowStride + i0 + ir;
      int64_t r = 0;
      for (; r < rows; ++r) panel[p * kRows + r] = src[r];
      for (; r < kRows; ++r) panel[p * kRows + r] = 0.f;
    }
  }
}

// B[p0:p0+kc, j0:j0+nc] as panels of kCols columns, k-major within a panel, zero-padded; panel
// jr/kCols at out + jr·panelDepth (kc, or a whole K when B is packed in parts).
void packB(const Matrix& b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* out,
           int64_t panelDepth) {
  for (int64_t jr = 0; jr < nc; jr += kCols) {
    const int64_t cols = std::min<int64_t>(kCols, nc - jr);
    float* panel = out + jr * panelDepth;
    if (!b.transposed) {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = b.data + (p0 + p) * b.rowStride + j0 + jr;
        float* dst = panel + p * kCols;
        if (cols == kCols) {
          std::memcpy(dst, src, sizeof(float) * kCols);
        } else {
          int64_t c = 0;
          for (; c < cols; ++c) dst[c] = src[c];
          for (; c < kCols; ++c) dst[c] = 0.f;
        }
      }
    } else {
      for (int64_t c = 0; c < kCols; ++c) {
        if (c < cols) {
          const float* src = b.data + (j0 + jr + c) * b.rowStride + p0;
          for (int64_t p = 0; p < kc; ++p) panel[p * kCols + c] = src[p];
        } else {
          for (int64_t p = 0; p < kc; ++p) panel[p * kCols + c] = 0.f;
        }
      }
    }
  }
}

struct Epilogue {
  bool last;  // the last K block: add the bias and addend, apply the activation
  const float* bias;
  Activation activation;
  Addend addend;         // its data moved to the tile's first column
  int64_t firstRow = 0;  // the tile's first row in C (picks the addend's rows)
};

// Writes one kRows × kCols tile of sums: C (+)= acc (+ bias, activation on the last K block),
// for the valid rows × cols of it.
void storeTile(const Vec (&acc)[kRows][2], float* c, int64_t ldc, int64_t rows, int64_t cols,
               bool accumulate, const Epilogue& epilogue) {
  alignas(64) float tile[kRows][kCols];
  float* out = c;
  int64_t stride = ldc;
  const bool full = rows == kRows && cols == kCols;
  if (!full) {
    out = &tile[0][0];
    stride = kCols;
    if (accumulate) {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < cols; ++j) tile[r][j] = c[r * ldc + j];
    }
  }
  Vec bias0{}, bias1{};
  if (epilogue.last && epilogue.bias) {
    alignas(64) float b[kCols] = {};
    for (int64_t j = 0; j < cols; ++j) b[j] = epilogue.bias[j];
    bias0 = load(b);
    bias1 = load(b + kLanes);
  }
  const bool relu = epilogue.last && epilogue.activation == Activation::kRelu;
  const Addend& addend = epilogue.addend;
  const bool adds = epilogue.last && addend.data;
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    float* row = out + r * stride;
    Vec v0 = acc[r][0], v1 = acc[r][1];
    if (accumulate) {
      v0 += load(row);
      v1 += load(row + kLanes);
    }
    v0 += bias0;
    v1 += bias1;
    if (adds && r < rows) {
      const float* from = addend.data + (epilogue.firstRow + r) / addend.rowsPerRow * addend.ld;
      if (cols == kCols) {
        v0 += load(from);
        v1 += load(from + kLanes);
      } else {
        alignas(64) float part[kCols] = {};
        for (int64_t j = 0; j < cols; ++j) part[j] = from[j];
        v0 += load(part);
        v1 += load(part + kLanes);
      }
    }
    if (relu) {
      v0 = v0 > 0 ? v0 : Vec{};
      v1 = v1 > 0 ? v1 : Vec{};
    }
    if (full || r < rows) {
      store(row, v0);
      store(row + kLanes, v1);
    }
  }
  if (!full) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j) c[r * ldc + j] = tile[r][j];
  }
}

// One kRows × kCols tile: C (+)= Ap·Bp over kc, for the valid rows × cols of it. Ap holds kRows
// side-by-side floats per k, aStride apart (kRows in a packed panel; a transposed A's row stride
// when read where it lies).
void microKernel(int64_t kc, const float* ap, int64_t aStride, const float* bp, float* c,
                 int64_t ldc, int64_t rows, int64_t cols, bool accumulate,
                 const Epilogue& epilogue) {
  Vec acc[kRows][2];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = Vec{};
  for (int64_t p = 0; p < kc; ++p) {
    const Vec b0 = *reinterpret_cast<const Vec*>(bp + p * kCols);
    const Vec b1 = *reinterpret_cast<const Vec*>(bp + p * kCols + kLanes);
    const float* a = ap + p * aStride;
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      acc[r][0] += a[r] * b0;
      acc[r][1] += a[r] * b1;
    }
  }
  storeTile(acc, c, ldc, rows, cols, accumulate, epilogue);
}

// One tile of an indirect product: kRows rows, each `pieces` runs of `run` floats read where
// they lie (row r's piece t at rows[r][t]), against B packed k-major for one column panel.
void indirectMicroKernel(int64_t pieces, int64_t run, const float* const* const* rows,
                         const float* bp, float* c, int64_t ldc, int64_t validRows,
                         int64_t cols, const Epilogue& epilogue) {
  Vec acc[kRows][2];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = Vec{};
  for (int64_t t = 0; t < pieces; ++t) {
    const float* a[kRows];
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) a[r] = rows[r][t];
    const float* bt = bp + t * run * kCols;
    for (int64_t p = 0; p < run; ++p) {
      const Vec b0 = *reinterpret_cast<const Vec*>(bt + p * kCols);
      const Vec b1 = *reinterpret_cast<const Vec*>(bt + p * kCols + kLanes);
#pragma GCC unroll 16
      for (int r = 0; r < kRows; ++r) {
        acc[r][0] += a[r][p] * b0;
        acc[r][1] += a[r][p] * b1;
      }
    }
  }
  storeTile(acc, c, ldc, validRows, cols, false, epilogue);
}

// Splits a product of m rows and `panels` column panels into parts — row blocks, and column
// panels too when there are few row blocks — and runs part(i0, mc, firstPanel, endPanel) for
// each, on the pool from ~2 MFLOP (below, handing parts out costs more than it saves). A part
// runs its whole sum, so each element sums over K the same way whatever the split.
template <typename Part>
void forEachPart(int64_t m, int64_t panels, int64_t flops, Part part) {
  const int64_t blocksM = (m + kBlockM - 1) / kBlockM;
  const int64_t splitN = blocksM >= 8 ? 1 : std::min<int64_t>(panels, 4);
  const auto run = [&](int index) {
    const int64_t i0 = (index / splitN) * kBlockM, slice = index % splitN;
    part(i0, std::min(kBlockM, m - i0), panels * slice / splitN, panels * (slice + 1) / splitN);
  };
  parallelFor(static_cast<int>(blocksM * splitN), run, flops >= (int64_t{1} << 21));
}

// Runs tile(jr, cols, ir, rows, epilogue) over column panels [firstPanel, endPanel) of a block
// of nc columns and its mc rows (from row i0) in micro-panels, the bias and addend moved to each
// tile's columns and rows.
template <typename Tile>
void forEachTile(int64_t firstPanel, int64_t endPanel, int64_t nc, int64_t i0, int64_t mc,
                 const Epilogue& epilogue, Tile tile) {
  for (int64_t panel = firstPanel; panel < endPanel; ++panel) {
    const int64_t jr = panel * kCols;
    const int64_t cols = std::min<int64_t>(kCols, nc - jr);
    Epilogue tileEpilogue = epilogue;
    if (tileEpilogue.bias) tileEpilogue.bias += jr;
    if (tileEpilogue.addend.data) tileEpilogue.addend.data += jr;
    for (int64_t ir = 0; ir < mc; ir += kRows) {
      tileEpilogue.firstRow = i0 + ir;
      tile(jr, cols, ir, std::min<int64_t>(kRows, mc - ir), tileEpilogue);
    }
  }
}

thread_local AlignedBuffer packedA;
thread_local AlignedBuffer packedB;

// Packs A[i0:i0+mc, p0:p0+kc] into panels (the caller's choice of source).
using PackA = std::function<void(int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out)>;

// With `transposedA` (A stored [K, M]), whole micro-panels read A where it lies: each k's kRows
// values are side by side there already. Only a ragged last micro-panel is packed (read whole, it
// would run past A's rows).
void gemmPacked(int64_t m, int64_t n, int64_t k, const PackA& packA, Matrix b, float* c,
                int64_t ldc, bool accumulate, const float* bias, Activation activation,
                const Addend& addend, const Matrix* transposedA = nullptr) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // An empty sum: C keeps its value (or becomes 0), then the epilogue.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float v = (accumulate ? c[i * ldc + j] : 0.f) + (bias ? bias[j] : 0.f);
        if (addend.data) v += addend.data[i / addend.rowsPerRow * addend.ld + j];
        c[i * ldc + j] = activation == Activation::kRelu && v < 0 ? 0.f : v;
      }
    return;
  }
  const int64_t blocksK = (k + kBlockK - 1) / kBlockK;
  for (int64_t j0 = 0; j0 < n; j0 += kBlockN) {
    const int64_t nc = std::min(kBlockN, n - j0);
    const int64_t ncPadded = (nc + kCols - 1) / kCols * kCols;
    // B's columns [j0, j0 + nc) packed for every K block at once (block p0 at p0·ncPadded).
    float* bp = packedB.reserve(static_cast<size_t>(ncPadded * k));
    for (int64_t p0 = 0; p0 < k; p0 += kBlockK) {
      const int64_t kc = std::min(kBlockK, k - p0);
      packB(b, p0, kc, j0, nc, bp + p0 * ncPadded, kc);
    }
    // The bias and addend of columns [j0, j0 + nc).
    Addend blockAddend = addend;
    if (blockAddend.data) blockAddend.data += j0;
    const auto gemmPart = [&](int64_t i0, int64_t mc, int64_t firstPanel, int64_t endPanel) {
      float* ap = packedA.reserve(static_cast<size_t>((mc + kRows) * std::min(kBlockK, k)));
      for (int64_t blockK = 0; blockK < blocksK; ++blockK) {
        const int64_t p0 = blockK * kBlockK;
        const int64_t kc = std::min(kBlockK, k - p0);
        const bool add = accumulate || p0 > 0;
        const Epilogue epilogue{p0 + kc == k, bias ? bias + j0 : nullptr, activation, blockAddend};
        const int64_t wholeRows = transposedA ? mc / kRows * kRows : 0;
        if (wholeRows < mc) packA(i0 + wholeRows, mc - wholeRows, p0, kc, ap);
        const float* bpBlock = bp + p0 * ncPadded;
        forEachTile(firstPanel, endPanel, nc, i0, mc, epilogue,
                    [&](int64_t jr, int64_t cols, int64_t ir, int64_t rows, const Epilogue& e) {
                      float* tile = c + (i0 + ir) * ldc + j0 + jr;
                      if (ir < wholeRows) {
                        const int64_t lda = transposedA->rowStride;
                        microKernel(kc, transposedA->data + p0 * lda + i0 + ir, lda,
                                    bpBlock + jr * kc, tile, ldc, rows, cols, add, e);
                      } else {
                        microKernel(kc, ap + (ir - wholeRows) * kc, kRows, bpBlock + jr * kc,
                                    tile, ldc, rows, cols, add, e);
                      }
                    });
      }
    };
    forEachPart(m, ncPadded / kCols, 2 * m * nc * k, gemmPart);
  }
}

}  // namespace

int vectorFloats() { return kLanes; }

void gemm(int64_t m, int64_t n, int64_t k, Matrix a, Matrix b, float* c, int64_t ldc,
          bool accumulate, const float* bias, Activation activation, const Addend& addend) {
  // A's rows read where they lie (no packed copy; measured 1.05–2.2× faster on cxr-mini's
  // shapes) where one pass over K suffices.
  if (!a.transposed && !accumulate && k > 0 && k <= kIndirectDepth) {
    thread_local std::vector<const float*> rows;
    thread_local std::vector<float> zeros;  // only ever read: grown, never refilled
    rows.resize(static_cast<size_t>(m));
    if (static_cast<int64_t>(zeros.size()) < k) zeros.resize(static_cast<size_t>(k), 0.f);
    for (int64_t i = 0; i < m; ++i) rows[i] = a.data + i * a.rowStride;
    gemmIndirect(m, n, 1, k, rows.data(), zeros.data(), b, c, ldc, bias, activation, addend);
    return;
  }
  gemmPacked(
      m, n, k,
      [&](int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out) {
        packA(a, i0, mc, p0, kc, out);
      },
      b, c, ldc, accumulate, bias, activation, addend, a.transposed ? &a : nullptr);
}

void gemmIndirect(int64_t m, int64_t n, int64_t pieces, int64_t run,
                  const float* const* rowPieces, const float* zeros, Matrix b, float* c,
                  int64_t ldc, const float* bias, Activation activation, const Addend& addend) {
  gemmIndirect(m, n, pieces, run, rowPieces, zeros, &b, 1, c, ldc, bias, activation, addend);
}

void gemmIndirect(int64_t m, int64_t n, int64_t pieces, int64_t run,
                  const float* const* rowPieces, const float* zeros, const Matrix* bParts,
                  int64_t partCount, float* c, int64_t ldc, const float* bias,
                  Activation activation, const Addend& addend) {
  if (m == 0 || n == 0) return;
  const int64_t k = pieces * run;
  const int64_t ncPadded = (n + kCols - 1) / kCols * kCols;
  float* bp = packedB.reserve(static_cast<size_t>(ncPadded * std::max<int64_t>(k, 1)));
  const int64_t partRows = k / partCount;
  for (int64_t t = 0; t < partCount; ++t) {
    packB(bParts[t], 0, partRows, 0, n, bp + t * partRows * kCols, k);
  }
  // Rows past the end read zeros and are not stored. (A buffer kept per thread, as the packed
  // panels are; the tiles read it through a pointer, the pool's threads having their own.)
  thread_local std::vector<const float*> paddingRow;
  paddingRow.assign(static_cast<size_t>(pieces), zeros);
  const float* const* padding = paddingRow.data();
  const Epilogue epilogue{true, bias, activation, addend};
  forEachPart(m, ncPadded / kCols, 2 * m * n * k,
              [&](int64_t i0, int64_t mc, int64_t firstPanel, int64_t endPanel) {
                forEachTile(firstPanel, endPanel, n, i0, mc, epilogue,
                            [&](int64_t jr, int64_t cols, int64_t ir, int64_t valid,
                                const Epilogue& e) {
                              const float* const* rows[kRows];
                              for (int r = 0; r < kRows; ++r) {
                                rows[r] = r < valid ? rowPieces + (i0 + ir + r) * pieces : padding;
                              }
                              indirectMicroKernel(pieces, run, rows, bp + jr * k,
                                                  c + (i0 + ir) * ldc + jr, ldc, valid, cols, e);
                            });
              });
}

}  // namespace fairdiff
