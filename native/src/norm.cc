#include "norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "threadPool.h"
#include "vectorMath.h"

namespace fairdiff {
namespace {

// A fixed number of row parts (not the thread count), so sums over rows add up in one order.
constexpr int kRowParts = 8;

// Positions whose gradient sums are taken in float before joining a double total (a float sum of
// 64 terms stays within ~4e-6 of its size).
constexpr int64_t kSumBlock = 64;

// For each channel: finish(the mean over its group and the row's positions), given each
// channel's sum over the positions as channelSum(j); the same value for a group's channels.
template <typename ChannelSum, typename Finish>
void groupMeans(const NormShape& s, ChannelSum channelSum, Finish finish, float* out) {
  const int64_t perGroup = s.channels / s.groups;
  const double count = static_cast<double>(s.spatial * perGroup);
  for (int64_t g = 0; g < s.groups; ++g) {
    double total = 0;
    for (int64_t j = g * perGroup; j < (g + 1) * perGroup; ++j) total += channelSum(j);
    const float value = static_cast<float>(finish(total / count));
    for (int64_t j = g * perGroup; j < (g + 1) * perGroup; ++j) out[j] = value;
  }
}

// Per channel of one row: mean[c] and rstd[c] of the channel's group (two-pass, double sums).
void rowStatistics(const NormShape& s, const float* x, std::vector<double>& channelSum,
                   float* mean, float* rstd) {
  const int64_t c = s.channels;
  const auto sums = [&](int64_t j) { return channelSum[j]; };
  std::fill(channelSum.begin(), channelSum.end(), 0.0);
  for (int64_t p = 0; p < s.spatial; ++p) {
    const float* xp = x + p * c;
    for (int64_t j = 0; j < c; ++j) channelSum[j] += xp[j];
  }
  groupMeans(s, sums, [](double m) { return m; }, mean);
  std::fill(channelSum.begin(), channelSum.end(), 0.0);
  for (int64_t p = 0; p < s.spatial; ++p) {
    const float* xp = x + p * c;
    for (int64_t j = 0; j < c; ++j) {
      const double d = xp[j] - mean[j];
      channelSum[j] += d * d;
    }
  }
  groupMeans(s, sums, [&](double v) { return 1.0 / std::sqrt(v + s.epsilon); }, rstd);
}

void parallelRows(const NormShape& s, const std::function<void(int64_t, int64_t, int)>& body) {
  const int parts = static_cast<int>(std::min<int64_t>(kRowParts, s.rows));
  auto run = [&](int part) {
    body(s.rows * part / parts, s.rows * (part + 1) / parts, part);
  };
  parallelFor(parts, run, s.rows * s.spatial * s.channels >= (int64_t{1} << 15));
}

}  // namespace

void normForward(const NormShape& s, const float* x, const float* gamma, const float* beta,
                 float* y) {
  const int64_t c = s.channels;
  parallelRows(s, [&](int64_t first, int64_t end, int) {
    std::vector<double> channelSum(c);
    std::vector<float> mean(c), rstd(c), scale(c), shift(c);
    for (int64_t r = first; r < end; ++r) {
      const float* xr = x + r * s.spatial * c;
      float* yr = y + r * s.spatial * c;
      rowStatistics(s, xr, channelSum, mean.data(), rstd.data());
      for (int64_t j = 0; j < c; ++j) {
        scale[j] = rstd[j] * gamma[j];
        shift[j] = beta[j] - mean[j] * scale[j];
      }
      for (int64_t p = 0; p < s.spatial; ++p) {
        eachVector(c, [&](int64_t j, int64_t count) {
          FloatVec a = loadPart(xr + p * c + j, count) * loadPart(&scale[j], count) +
                       loadPart(&shift[j], count);
          if (s.silu) a = a * sigmoidVec(a);
          storePart(yr + p * c + j, a, count);
        });
      }
    }
  });
}

void normBackward(const NormShape& s, const float* dy, const float* x, const float* gamma,
                  const float* beta, float* dx, float* dgamma, float* dbeta) {
  const int64_t c = s.channels;
  const int parts = static_cast<int>(std::min<int64_t>(kRowParts, s.rows));
  std::vector<double> partGamma(parts * c, 0.0), partBeta(parts * c, 0.0);
  parallelRows(s, [&](int64_t first, int64_t end, int part) {
    std::vector<double> channelSum(c), rowDa(c), rowDaX(c);
    std::vector<float> mean(c), rstd(c), meanG(c), meanGX(c), blockDa(c), blockDaX(c);
    // Σ da and Σ da·x̂ in float vectors over blocks of positions, each block then added into the
    // double totals: a scalar double add per element cost more than the rest of the pass.
    const auto addBlock = [&]() {
      for (int64_t j = 0; j < c; ++j) {
        rowDa[j] += blockDa[j];
        rowDaX[j] += blockDaX[j];
      }
      std::fill(blockDa.begin(), blockDa.end(), 0.f);
      std::fill(blockDaX.begin(), blockDaX.end(), 0.f);
    };
    double* pg = &partGamma[part * c];
    double* pb = &partBeta[part * c];
    for (int64_t r = first; r < end; ++r) {
      const float* xr = x + r * s.spatial * c;
      const float* dyr = dy + r * s.spatial * c;
      float* dxr = dx + r * s.spatial * c;
      rowStatistics(s, xr, channelSum, mean.data(), rstd.data());
      std::fill(rowDa.begin(), rowDa.end(), 0.0);
      std::fill(rowDaX.begin(), rowDaX.end(), 0.0);
      // da (stashed in dx) and its sums over the row's positions, Σ da and Σ da·x̂, per channel.
      for (int64_t p = 0; p < s.spatial; ++p) {
        if (p > 0 && p % kSumBlock == 0) addBlock();
        eachVector(c, [&](int64_t j, int64_t count) {
          const FloatVec xHat =
              (loadPart(xr + p * c + j, count) - loadPart(&mean[j], count)) *
              loadPart(&rstd[j], count);
          FloatVec da = loadPart(dyr + p * c + j, count);
          if (s.silu) {
            const FloatVec a = xHat * loadPart(gamma + j, count) + loadPart(beta + j, count);
            const FloatVec sig = sigmoidVec(a);
            da = da * (sig * (1.f + a * (1.f - sig)));
          }
          storePart(dxr + p * c + j, da, count);
          storePart(&blockDa[j], loadPart(&blockDa[j], count) + da, count);
          storePart(&blockDaX[j], loadPart(&blockDaX[j], count) + da * xHat, count);
        });
      }
      addBlock();
      // dβ = Σ da, dγ = Σ da·x̂; the group means of g = da·γ and g·x̂ follow from the same sums.
      for (int64_t j = 0; j < c; ++j) {
        pb[j] += rowDa[j];
        pg[j] += rowDaX[j];
      }
      const auto same = [](double m) { return m; };
      groupMeans(s, [&](int64_t j) { return rowDa[j] * gamma[j]; }, same, meanG.data());
      groupMeans(s, [&](int64_t j) { return rowDaX[j] * gamma[j]; }, same, meanGX.data());
      for (int64_t p = 0; p < s.spatial; ++p) {
        eachVector(c, [&](int64_t j, int64_t n) {
          const FloatVec xHat = (loadPart(xr + p * c + j, n) - loadPart(&mean[j], n)) *
                                loadPart(&rstd[j], n);
          const FloatVec g = loadPart(dxr + p * c + j, n) * loadPart(gamma + j, n);
          const FloatVec inner = g - loadPart(&meanG[j], n) - xHat * loadPart(&meanGX[j], n);
          storePart(dxr + p * c + j, inner * loadPart(&rstd[j], n), n);
        });
      }
    }
  });
  for (int64_t j = 0; j < c; ++j) {
    double tg = 0, tb = 0;
    for (int part = 0; part < parts; ++part) {
      tg += partGamma[part * c + j];
      tb += partBeta[part * c + j];
    }
    dgamma[j] = static_cast<float>(tg);
    dbeta[j] = static_cast<float>(tb);
  }
}

}  // namespace fairdiff
