#include "commands.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "activation.h"
#include "attention.h"
#include "broadcast.h"
#include "conv.h"
#include "gemm.h"
#include "norm.h"

namespace fairdiff {
namespace {

constexpr int kMaxArrays = 8;

// One decoded command: its arrays (null where absent) with their lengths, and its parameters.
struct Command {
  CommandOp op;
  int arrayCount = 0;
  float* arrays[kMaxArrays] = {};
  int64_t lengths[kMaxArrays] = {};
  const int32_t* ints = nullptr;
  const int32_t* floatBits = nullptr;

  float number(int i) const {
    float value;
    std::memcpy(&value, floatBits + i, sizeof value);
    return value;
  }
};

// What each operation takes: its array count, which of them may be absent (a bit each), and its
// int and float counts.
struct Layout {
  int arrays;
  unsigned optional;
  int ints;
  int floats;
};

Layout layoutOf(CommandOp op) {
  switch (op) {
    case CommandOp::kGemm: return {5, 0b11000, 9, 0};
    case CommandOp::kConvForward: return {5, 0b10100, 17, 0};
    case CommandOp::kConvBackpropInput:
    case CommandOp::kConvBackpropFilter: return {3, 0, 15, 0};
    case CommandOp::kNormForward: return {4, 0, 5, 1};
    case CommandOp::kNormBackward: return {7, 0, 5, 1};
    case CommandOp::kActivationForward: return {2, 0, 2, 0};
    case CommandOp::kActivationBackward: return {3, 0, 2, 0};
    case CommandOp::kAttentionForward: return {5, 0b01000, 5, 1};
    case CommandOp::kAttentionBackward: return {8, 0b01000, 5, 1};
    case CommandOp::kFill: return {1, 0, 1, 1};
    case CommandOp::kColumnSums: return {2, 0, 4, 0};
    case CommandOp::kCopyRows: return {2, 0, 6, 0};
    case CommandOp::kBinary: return {3, 0, 20, 0};
    case CommandOp::kReduceSum: return {2, 0, 9, 0};
  }
  return {-1, 0, 0, 0};
}

ConvShape convShape(const int32_t* p) {
  return {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13],
          p[14]};
}

// Floats array i must hold for the command's shape (-1: no requirement beyond the heap).
int64_t needed(const Command& c, int i) {
  const int32_t* p = c.ints;
  switch (c.op) {
    case CommandOp::kGemm: {
      const int64_t batch = p[0], m = p[1], n = p[2], k = p[3];
      if (batch <= 0 || m * n == 0) return 0;
      const int64_t spans[5] = {(batch - 1) * p[6] + m * k, (batch - 1) * p[7] + k * n,
                                batch * m * n, n, batch * m * n};
      return spans[i];
    }
    case CommandOp::kConvForward:
    case CommandOp::kConvBackpropInput:
    case CommandOp::kConvBackpropFilter: {
      const ConvShape s = convShape(p);
      const int64_t x = s.batch * s.inHeight * s.inWidth * s.inChannels;
      const int64_t w = s.filterHeight * s.filterWidth * s.inChannels * s.outChannels;
      const int64_t pixels = s.batch * s.outHeight * s.outWidth;
      const int64_t y = pixels * s.outChannels;
      if (c.op == CommandOp::kConvForward) {
        const int64_t perRow = std::max<int64_t>(p[16], 1);
        const int64_t spans[5] = {x, w, s.outChannels, y,
                                  (pixels + perRow - 1) / perRow * s.outChannels};
        return spans[i];
      }
      const int64_t spans[3] = {c.op == CommandOp::kConvBackpropInput ? y : x,
                                c.op == CommandOp::kConvBackpropInput ? w : y,
                                c.op == CommandOp::kConvBackpropInput ? x : w};
      return spans[i];
    }
    case CommandOp::kNormForward:
    case CommandOp::kNormBackward: {
      const int64_t x = static_cast<int64_t>(p[0]) * p[1] * p[2], channels = p[2];
      if (c.op == CommandOp::kNormForward) return i == 1 || i == 2 ? channels : x;
      return i == 2 || i == 3 || i == 5 || i == 6 ? channels : x;
    }
    case CommandOp::kActivationForward:
    case CommandOp::kActivationBackward:
    case CommandOp::kFill: return p[0];
    case CommandOp::kAttentionForward:
    case CommandOp::kAttentionBackward: {
      const int64_t width = static_cast<int64_t>(p[3]) * p[4];
      const int64_t query = p[0] * p[1] * width, key = p[0] * p[2] * width;
      if (i == 3) return static_cast<int64_t>(p[0]) * p[2];
      if (c.op == CommandOp::kAttentionForward) return i == 0 || i == 4 ? query : key;
      return i == 1 || i == 2 || i == 6 || i == 7 ? key : query;
    }
    case CommandOp::kColumnSums: {
      const int64_t batch = p[0], rows = p[1], width = p[2];
      if (batch <= 0 || rows * width == 0) return i == 0 ? 0 : batch * width;
      return i == 0 ? (batch - 1) * p[3] + rows * width : batch * width;
    }
    case CommandOp::kCopyRows: {
      const int64_t rows = p[0], width = p[1];
      if (rows <= 0 || width <= 0) return 0;
      const int64_t start = i == 0 ? p[2] : p[4], stride = i == 0 ? p[3] : p[5];
      if (start < 0 || stride < 0) return INT64_MAX;
      return start + std::max<int64_t>((rows - 1) * stride, 0) + width;
    }
    case CommandOp::kBinary: {
      const int rank = p[1];
      if (p[0] < 0 || p[0] > 3 || rank < 0 || rank > kMaxBroadcastRank) return INT64_MAX;
      int64_t size = 1, reach[2] = {1, 1};
      for (int d = 0; d < rank; ++d) {
        if (p[2 + d] < 0 || p[8 + d] < 0 || p[14 + d] < 0) return INT64_MAX;
        size *= p[2 + d];
        reach[0] += (p[2 + d] - 1) * static_cast<int64_t>(p[8 + d]);
        reach[1] += (p[2 + d] - 1) * static_cast<int64_t>(p[14 + d]);
      }
      if (size == 0) return 0;
      return i == 2 ? size : reach[i];
    }
    case CommandOp::kReduceSum: {
      const int rank = p[0];
      if (rank < 0 || rank > kMaxBroadcastRank || p[8] < 1) return INT64_MAX;
      int64_t size = 1, kept = 1;
      for (int d = 0; d < rank; ++d) {
        if (p[1 + d] < 0) return INT64_MAX;
        size *= p[1 + d];
        if (!(p[7] & (1 << d))) kept *= p[1 + d];
      }
      return i == 0 ? size : kept;
    }
  }
  return 0;
}

// A row of ones for kColumnSums' product (one per thread: a worker's addon shares the library).
const float* onesOf(int64_t n) {
  thread_local std::vector<float> ones;
  if (static_cast<int64_t>(ones.size()) < n) ones.assign(static_cast<size_t>(n), 1.0f);
  return ones.data();
}

void run(const Command& c) {
  float* const* a = c.arrays;
  const int32_t* p = c.ints;
  switch (c.op) {
    case CommandOp::kGemm: {
      const int64_t batch = p[0], m = p[1], n = p[2], k = p[3];
      const bool ta = p[4] != 0, tb = p[5] != 0;
      if (m * n == 0) return;
      for (int64_t i = 0; i < batch; ++i) {
        const Addend addend{a[4] ? a[4] + i * m * n : nullptr, n, 1};
        gemm(m, n, k, {a[0] + i * p[6], ta ? m : k, ta}, {a[1] + i * p[7], tb ? k : n, tb},
             a[2] + i * m * n, n, false, a[3], static_cast<Activation>(p[8]), addend);
      }
      return;
    }
    case CommandOp::kConvForward: {
      const ConvShape s = convShape(p);
      const Addend addend{a[4], s.outChannels, p[16]};
      convForward(s, a[0], a[1], a[2], static_cast<Activation>(p[15]), a[3], addend);
      return;
    }
    case CommandOp::kConvBackpropInput: convBackpropInput(convShape(p), a[0], a[1], a[2]); return;
    case CommandOp::kConvBackpropFilter: convBackpropFilter(convShape(p), a[0], a[1], a[2]); return;
    case CommandOp::kNormForward:
      normForward({p[0], p[1], p[2], p[3], c.number(0), p[4] != 0}, a[0], a[1], a[2], a[3]);
      return;
    case CommandOp::kNormBackward:
      normBackward({p[0], p[1], p[2], p[3], c.number(0), p[4] != 0}, a[0], a[1], a[2], a[3], a[4],
                   a[5], a[6]);
      return;
    case CommandOp::kActivationForward:
      activationForward(static_cast<Pointwise>(p[1]), p[0], a[0], a[1]);
      return;
    case CommandOp::kActivationBackward:
      activationBackward(static_cast<Pointwise>(p[1]), p[0], a[0], a[1], a[2]);
      return;
    case CommandOp::kAttentionForward:
      attentionForward({p[0], p[1], p[2], p[3], p[4], c.number(0)}, a[0], a[1], a[2], a[3], a[4]);
      return;
    case CommandOp::kAttentionBackward:
      attentionBackward({p[0], p[1], p[2], p[3], p[4], c.number(0)}, a[0], a[1], a[2], a[3], a[4],
                        a[5], a[6], a[7]);
      return;
    case CommandOp::kFill: std::fill(a[0], a[0] + p[0], c.number(0)); return;
    case CommandOp::kColumnSums: {
      const int64_t batch = p[0], rows = p[1], width = p[2];
      if (width == 0) return;
      const float* ones = onesOf(rows);
      for (int64_t i = 0; i < batch; ++i) {
        gemm(1, width, rows, {ones, rows, false}, {a[0] + i * p[3], width, false},
             a[1] + i * width, width, false, nullptr, Activation::kLinear);
      }
      return;
    }
    case CommandOp::kCopyRows: {
      const int64_t rows = p[0], width = p[1];
      for (int64_t r = 0; r < rows && width > 0; ++r) {
        std::memmove(a[1] + p[4] + r * p[5], a[0] + p[2] + r * p[3], width * sizeof(float));
      }
      return;
    }
    case CommandOp::kBinary: {
      int64_t dims[kMaxBroadcastRank], sa[kMaxBroadcastRank], sb[kMaxBroadcastRank];
      int64_t size = 1;
      for (int d = 0; d < p[1]; ++d) {
        dims[d] = p[2 + d];
        sa[d] = p[8 + d];
        sb[d] = p[14 + d];
        size *= dims[d];
      }
      if (size > 0) binaryBroadcast(static_cast<BinaryOp>(p[0]), p[1], dims, sa, sb, a[0], a[1], a[2]);
      return;
    }
    case CommandOp::kReduceSum: {
      int64_t dims[kMaxBroadcastRank];
      for (int d = 0; d < p[0]; ++d) dims[d] = p[1 + d];
      reduceSum(p[0], dims, static_cast<uint32_t>(p[7]), p[8], a[0], a[1]);
      return;
    }
  }
}

}  // namespace

std::string runCommands(MemoryRegion heap, MemoryRegion outside, const int32_t* table,
                        size_t tableEntries, const int32_t* commands, size_t commandLength,
                        size_t begin, size_t end) {
  size_t at = begin;
  for (int index = 0; at < end; ++index) {
    const std::string where = "fairdiff native: command " + std::to_string(index) + " of the run";
    // Reads the next value, or fails past the run's end.
    const auto take = [&](int32_t* value) {
      if (at >= end || at >= commandLength) return false;
      *value = commands[at++];
      return true;
    };
    Command c;
    int32_t op = -1, count = 0;
    if (!take(&op) || layoutOf(static_cast<CommandOp>(op)).arrays < 0) {
      return where + ": unknown operation " + std::to_string(op);
    }
    c.op = static_cast<CommandOp>(op);
    const Layout layout = layoutOf(c.op);
    if (!take(&count) || count != layout.arrays) return where + ": wrong array count";
    c.arrayCount = count;
    for (int i = 0; i < count; ++i) {
      int32_t id = -1;
      if (!take(&id) || id < -1 || id >= static_cast<int64_t>(tableEntries)) {
        return where + ": array " + std::to_string(i) + " names no table entry";
      }
      if (id == -1) {
        if (!(layout.optional & (1u << i))) return where + ": array " + std::to_string(i) + " is required";
        continue;
      }
      const int32_t word = table[2 * id], lengthWord = table[2 * id + 1];
      const bool inHeap = lengthWord >= 0;
      const MemoryRegion& region = inHeap ? heap : outside;
      // A heap entry holds a byte offset (as uint32), an outside one a float offset.
      const uint64_t offset = inHeap ? static_cast<uint32_t>(word) : 4 * static_cast<uint64_t>(word);
      const int64_t length = inHeap ? lengthWord : ~lengthWord;
      if ((!inHeap && (word < 0 || region.data == nullptr)) || offset % alignof(float) != 0 ||
          offset + 4 * static_cast<uint64_t>(length) > region.bytes) {
        return where + ": array " + std::to_string(i) + " lies outside the " +
               (inHeap ? "heap" : "outside region");
      }
      c.arrays[i] = reinterpret_cast<float*>(region.data + offset);
      c.lengths[i] = length;
    }
    if (!take(&count) || count != layout.ints || at + count > end) return where + ": wrong int count";
    c.ints = commands + at;
    at += count;
    if (!take(&count) || count != layout.floats || at + count > end) return where + ": wrong float count";
    c.floatBits = commands + at;
    at += count;
    for (int i = 0; i < c.arrayCount; ++i) {
      if (c.arrays[i] && needed(c, i) > c.lengths[i]) {
        return where + ": array " + std::to_string(i) + " holds " + std::to_string(c.lengths[i]) +
               " floats, its shape needs " + std::to_string(needed(c, i));
      }
    }
    run(c);
  }
  return "";
}

}  // namespace fairdiff
