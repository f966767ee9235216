#include "conv.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <type_traits>
#include <vector>

#include "threadPool.h"
#include "vectorMath.h"

namespace fairdiff {
namespace {

int64_t columnsOf(const ConvShape& s) { return s.filterHeight * s.filterWidth * s.inChannels; }

// Floats of one image's im2col rows.
int64_t im2colPerImage(const ConvShape& s) { return s.outHeight * s.outWidth * columnsOf(s); }

// Images per im2col chunk: the chunk's matrix stays under ~32 MB.
int64_t imagesPerChunk(const ConvShape& s) {
  return std::max<int64_t>(1, (int64_t{8} << 20) / std::max<int64_t>(1, im2colPerImage(s)));
}

// The offset in its image of the input pixel under filter tap (i, j) at output (oh, ow), or −1
// where the tap falls in the padding.
inline int64_t tapOffset(const ConvShape& s, int64_t oh, int64_t ow, int64_t i, int64_t j) {
  const int64_t ih = oh * s.strideHeight - s.padTop + i * s.dilationHeight;
  const int64_t iw = ow * s.strideWidth - s.padLeft + j * s.dilationWidth;
  const bool inside = ih >= 0 && ih < s.inHeight && iw >= 0 && iw < s.inWidth;
  return inside ? (ih * s.inWidth + iw) * s.inChannels : -1;
}

bool isPointwise(const ConvShape& s) {
  return s.filterHeight == 1 && s.filterWidth == 1 && s.strideHeight == 1 && s.strideWidth == 1 &&
         s.padTop == 0 && s.padLeft == 0 && s.outHeight == s.inHeight &&
         s.outWidth == s.inWidth;
}

// Runs body(image) for each image, on the pool when the images hold enough work to share.
void forEachImage(const ConvShape& s, int64_t images, const std::function<void(int)>& body) {
  parallelFor(static_cast<int>(images), body, images * im2colPerImage(s) >= (int64_t{1} << 17));
}

// For each im2col row of one image (output position) and each filter tap (kh, kw), in the
// matrix's column order: tap(the input pixel's offset in the image, or −1 in the padding).
template <typename Tap>
void forEachTap(const ConvShape& s, Tap tap) {
  for (int64_t oh = 0; oh < s.outHeight; ++oh) {
    for (int64_t ow = 0; ow < s.outWidth; ++ow) {
      for (int64_t i = 0; i < s.filterHeight; ++i) {
        for (int64_t j = 0; j < s.filterWidth; ++j) tap(tapOffset(s, oh, ow, i, j));
      }
    }
  }
}

// dx[images b0…] += the col rows scattered back to their input positions; one image a part.
void col2im(const ConvShape& s, const float* col, int64_t b0, int64_t images, float* dx) {
  const int64_t perImage = im2colPerImage(s);
  forEachImage(s, images, [&](int image) {
    float* dxi = dx + (b0 + image) * s.inHeight * s.inWidth * s.inChannels;
    const float* in = col + image * perImage;
    forEachTap(s, [&](int64_t offset) {
      if (offset >= 0) {
        float* target = dxi + offset;
        for (int64_t c = 0; c < s.inChannels; ++c) target[c] += in[c];
      }
      in += s.inChannels;
    });
  });
}

thread_local std::vector<float> scratch;

// Runs body(firstImage, images, col) over the batch in chunks of images, col holding room for a
// chunk's im2col matrix (a thread-local buffer reused across calls).
template <typename Body>
void inImageChunks(const ConvShape& s, Body body) {
  const int64_t chunk = imagesPerChunk(s);
  const int64_t n = std::min(chunk, s.batch) * im2colPerImage(s);
  if (static_cast<int64_t>(scratch.size()) < n) scratch.resize(static_cast<size_t>(n));
  for (int64_t b0 = 0; b0 < s.batch; b0 += chunk) {
    body(b0, std::min(chunk, s.batch - b0), scratch.data());
  }
}

// Each output pixel's im2col row as its filter taps' input pixels, read where they lie: a table
// of pixels × taps pointers into x (to zeros in the padding) instead of the matrix itself.
struct TapTable {
  int64_t taps;
  const float* const* rows;
  const float* zeros;

  TapTable(const ConvShape& s, const float* x) : taps(s.filterHeight * s.filterWidth) {
    thread_local std::vector<const float*> table;
    thread_local std::vector<float> zeroRun;
    table.resize(static_cast<size_t>(s.batch * s.outHeight * s.outWidth * taps));
    // Only ever read: grown, never refilled.
    if (static_cast<int64_t>(zeroRun.size()) < s.inChannels) {
      zeroRun.resize(static_cast<size_t>(s.inChannels), 0.f);
    }
    const int64_t imageSize = s.inHeight * s.inWidth * s.inChannels;
    const int64_t perImage = s.outHeight * s.outWidth * taps;
    // Pointers, not the thread_locals: the pool's threads each have their own.
    const float** entries = table.data();
    const float* zero = zeroRun.data();
    forEachImage(s, s.batch, [&](int image) {
      const float* xi = x + image * imageSize;
      const float** entry = entries + image * perImage;
      forEachTap(s, [&](int64_t offset) { *entry++ = offset < 0 ? zero : xi + offset; });
    });
    rows = entries;
    zeros = zero;
  }
};

// One output pixel of narrowConvForward with N output channels: N sums kept in registers.
template <int N>
void narrowPixel(const float* const* pieces, int64_t taps, int64_t in, const float* columns,
                 int64_t k, const float* bias, const float* addend, Activation activation,
                 float* out) {
  FloatVec acc[N] = {};
  for (int64_t t = 0; t < taps; ++t) {
    const float* piece = pieces[t];
    const float* filter = columns + t * in;
    int64_t j = 0;
    for (; j + kMathLanes <= in; j += kMathLanes) {
      const FloatVec x = loadVec(piece + j);
      for (int o = 0; o < N; ++o) acc[o] += x * loadVec(filter + o * k + j);
    }
    if (j < in) {
      const FloatVec x = loadPart(piece + j, in - j);
      for (int o = 0; o < N; ++o) acc[o] += x * loadPart(filter + o * k + j, in - j);
    }
  }
  for (int o = 0; o < N; ++o) {
    float v = horizontalSum(acc[o]) + (bias ? bias[o] : 0.f);
    if (addend) v += addend[o];
    if (activation == Activation::kRelu && v < 0) v = 0.f;
    out[o] = v;
  }
}

// A convolution with few output channels (a UNet's last, to 4 latent channels; a decoder's, to 1
// grey channel): per output pixel and channel, a dot product over its taps in vectors of input
// channels, against the filter's columns repacked channel-major. The product's micro-tile would
// spend kCols columns of work on these few (measured 12 and 3 GFLOP/s there).
template <int N>
void narrowConvForward(const ConvShape& s, const TapTable& table, const float* w,
                       const float* bias, Activation activation, const Addend& addend, float* y) {
  const int64_t taps = table.taps, in = s.inChannels, k = taps * in;
  thread_local std::vector<float> repacked;
  repacked.resize(static_cast<size_t>(N * k));
  // A pointer, not the thread_local itself: the pool's threads each have their own (empty) one.
  float* columns = repacked.data();
  for (int64_t o = 0; o < N; ++o)
    for (int64_t i = 0; i < k; ++i) columns[o * k + i] = w[i * N + o];
  const int64_t pixels = s.batch * s.outHeight * s.outWidth;
  const auto pixelRange = [&](int64_t first, int64_t end) {
    for (int64_t p = first; p < end; ++p) {
      const float* added = addend.data ? addend.data + p / addend.rowsPerRow * addend.ld : nullptr;
      narrowPixel<N>(table.rows + p * taps, taps, in, columns, k, bias, added, activation,
                     y + p * N);
    }
  };
  // Fixed parts (not the thread count), each pixel computed alike whichever thread runs it.
  constexpr int kParts = 32;
  parallelFor(
      kParts, [&](int part) { pixelRange(pixels * part / kParts, pixels * (part + 1) / kParts); },
      pixels * k * N >= (int64_t{1} << 16));
}

// narrowConvForward<outChannels>, or false for more than 8 output channels.
bool convolveNarrow(const ConvShape& s, const TapTable& table, const float* w, const float* bias,
                    Activation activation, const Addend& addend, float* y) {
  const auto run = [&](auto channels) {
    narrowConvForward<decltype(channels)::value>(s, table, w, bias, activation, addend, y);
    return true;
  };
  switch (s.outChannels) {
    case 1: return run(std::integral_constant<int, 1>{});
    case 2: return run(std::integral_constant<int, 2>{});
    case 3: return run(std::integral_constant<int, 3>{});
    case 4: return run(std::integral_constant<int, 4>{});
    case 5: return run(std::integral_constant<int, 5>{});
    case 6: return run(std::integral_constant<int, 6>{});
    case 7: return run(std::integral_constant<int, 7>{});
    case 8: return run(std::integral_constant<int, 8>{});
    default: return false;
  }
}

}  // namespace

void convForward(const ConvShape& s, const float* x, const float* w, const float* bias,
                 Activation activation, float* y, const Addend& addend) {
  const int64_t columns = columnsOf(s);
  const int64_t pixels = s.batch * s.outHeight * s.outWidth;
  const Matrix filter{w, s.outChannels, false};
  if (isPointwise(s)) {
    gemm(pixels, s.outChannels, columns, Matrix{x, columns, false}, filter, y, s.outChannels,
         false, bias, activation, addend);
    return;
  }
  const TapTable table(s, x);
  // Up to 8 output channels: dot products (narrowConvForward).
  if (convolveNarrow(s, table, w, bias, activation, addend, y)) return;
  gemmIndirect(pixels, s.outChannels, table.taps, s.inChannels, table.rows, table.zeros, filter, y,
               s.outChannels, bias, activation, addend);
}

void convBackpropInput(const ConvShape& s, const float* dy, const float* w, float* dx) {
  const int64_t columns = columnsOf(s);
  const int64_t rowsPerImage = s.outHeight * s.outWidth;
  // col = dy · wᵀ: w [columns, out] read transposed.
  const Matrix filterT{w, s.outChannels, true};
  if (isPointwise(s)) {
    gemm(s.batch * rowsPerImage, columns, s.outChannels, Matrix{dy, s.outChannels, false},
         filterT, dx, columns, false, nullptr, Activation::kLinear);
    return;
  }
  if (s.strideHeight == 1 && s.strideWidth == 1) {
    // At stride 1 the input gradient is itself a convolution: of dy, with the filter turned
    // half a turn and its channels swapped, padded so every input pixel gets each tap that read
    // it. The forward's indirect product then needs no col matrix and no scatter back.
    const int64_t taps = s.filterHeight * s.filterWidth;
    const int64_t tapSize = s.inChannels * s.outChannels;
    ConvShape back = s;
    back.inHeight = s.outHeight;
    back.inWidth = s.outWidth;
    back.inChannels = s.outChannels;
    back.outHeight = s.inHeight;
    back.outWidth = s.inWidth;
    back.outChannels = s.inChannels;
    back.padTop = (s.filterHeight - 1) * s.dilationHeight - s.padTop;
    back.padLeft = (s.filterWidth - 1) * s.dilationWidth - s.padLeft;
    const TapTable table(back, dy);
    if (back.outChannels <= 8) {
      // The dot products read the filter column by column: turned first (it is small).
      thread_local std::vector<float> turned;
      turned.resize(static_cast<size_t>(taps * tapSize));
      for (int64_t t = 0; t < taps; ++t) {
        const float* from = w + (taps - 1 - t) * tapSize;
        float* to = turned.data() + t * tapSize;
        for (int64_t ci = 0; ci < s.inChannels; ++ci)
          for (int64_t co = 0; co < s.outChannels; ++co)
            to[co * s.inChannels + ci] = from[ci * s.outChannels + co];
      }
      convolveNarrow(back, table, turned.data(), nullptr, Activation::kLinear, {}, dx);
      return;
    }
    // Else the product packs each turned tap straight from the filter: tap t of the turned
    // filter is tap taps−1−t of w, [in, out] read as its transpose.
    thread_local std::vector<Matrix> turnedTaps;
    turnedTaps.resize(static_cast<size_t>(taps));
    for (int64_t t = 0; t < taps; ++t) {
      turnedTaps[t] = Matrix{w + (taps - 1 - t) * tapSize, s.outChannels, true};
    }
    gemmIndirect(s.batch * s.inHeight * s.inWidth, back.outChannels, table.taps, back.inChannels,
                 table.rows, table.zeros, turnedTaps.data(), taps, dx, back.outChannels, nullptr,
                 Activation::kLinear);
    return;
  }
  std::memset(dx, 0, sizeof(float) * s.batch * s.inHeight * s.inWidth * s.inChannels);
  inImageChunks(s, [&](int64_t b0, int64_t images, float* col) {
    gemm(images * rowsPerImage, columns, s.outChannels,
         Matrix{dy + b0 * rowsPerImage * s.outChannels, s.outChannels, false}, filterT, col,
         columns, false, nullptr, Activation::kLinear);
    col2im(s, col, b0, images, dx);
  });
}

void convBackpropFilter(const ConvShape& s, const float* x, const float* dy, float* dw) {
  const int64_t columns = columnsOf(s);
  const int64_t pixels = s.batch * s.outHeight * s.outWidth;
  // dw [columns, out] = colᵀ · dy.
  if (isPointwise(s)) {
    gemm(columns, s.outChannels, pixels, Matrix{x, columns, true},
         Matrix{dy, s.outChannels, false}, dw, s.outChannels, false, nullptr,
         Activation::kLinear);
    return;
  }
  // col, chunk by chunk, from the tap table (one copy per tap); the product then reads colᵀ's
  // micro-panels where they lie (measured 9 % faster than packing colᵀ from the table).
  const TapTable table(s, x);
  const int64_t rowsPerImage = s.outHeight * s.outWidth;
  inImageChunks(s, [&](int64_t b0, int64_t images, float* col) {
    const int64_t rows = images * rowsPerImage;
    const float* const* taps = table.rows + b0 * rowsPerImage * table.taps;
    // One image's rows a part (on the pool where the chunk is big enough to share).
    forEachImage(s, images, [&](int image) {
      const int64_t first = image * rowsPerImage * table.taps;
      float* out = col + first * s.inChannels;
      for (int64_t r = first; r < first + rowsPerImage * table.taps; ++r, out += s.inChannels) {
        std::memcpy(out, taps[r], sizeof(float) * s.inChannels);
      }
    });
    gemm(columns, s.outChannels, rows, Matrix{col, columns, true},
         Matrix{dy + b0 * rowsPerImage * s.outChannels, s.outChannels, false}, dw, s.outChannels,
         b0 > 0, nullptr, Activation::kLinear);
  });
}

}  // namespace fairdiff
