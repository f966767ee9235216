// 2-D convolution (NHWC input, [kh, kw, in, out] filter) and its two gradients, as matrix
// products over the im2col matrix: one row per output position, one column per (kh, kw, in).
// The forward never builds that matrix: the product reads each row's taps where they lie in the
// input (gemmIndirect), or, for up to 8 output channels, dot products over those taps; the
// gradients store it in chunks of images.
#pragma once
#include <cstdint>

#include "gemm.h"

namespace fairdiff {

struct ConvShape {
  int64_t batch, inHeight, inWidth, inChannels;
  int64_t outHeight, outWidth, outChannels;
  int64_t filterHeight, filterWidth;
  int64_t strideHeight, strideWidth, dilationHeight, dilationWidth;
  int64_t padTop, padLeft;
};

// y = conv(x, w) (+ bias) (+ addend: a residual, or a shift per image) then activation.
void convForward(const ConvShape& s, const float* x, const float* w, const float* bias,
                 Activation activation, float* y, const Addend& addend = {});
// dx = the gradient of conv(x, w) with respect to x, given dy.
void convBackpropInput(const ConvShape& s, const float* dy, const float* w, float* dx);
// dw = the gradient of conv(x, w) with respect to w, given dy.
void convBackpropFilter(const ConvShape& s, const float* x, const float* dy, float* dw);

}  // namespace fairdiff
