// A small fixed pool of worker threads for data-parallel loops. Work is split into a fixed
// number of parts chosen by the caller (never by the thread count), so results do not depend on
// how many threads run them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>

namespace fairdiff {

// Sets the number of threads (1 = run everything in the calling thread). The pool then serves
// the calling thread only; loops started on any other thread run serially in that thread.
void setThreadCount(int threads);
int threadCount();

// Runs body(part) for part in [0, parts), spread over the pool when `share` (callers pass whether
// the loop holds enough work to pay for handing parts out), else in order in the calling thread;
// returns when all are done. Either way each part computes the same floats.
void parallelFor(int parts, const std::function<void(int)>& body, bool share = true);

// Runs body(first, count) over [0, n) in fixed chunks (whole vectors), on the pool when n is
// large enough to share; each element's result is the same whichever thread computes it.
template <typename Body>
void forEachChunk(int64_t n, Body body) {
  constexpr int64_t kChunk = int64_t{1} << 14;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallelFor(
      static_cast<int>(chunks),
      [&](int chunk) {
        const int64_t first = chunk * kChunk;
        body(first, std::min(kChunk, n - first));
      },
      n >= 2 * kChunk);
}

}  // namespace fairdiff
