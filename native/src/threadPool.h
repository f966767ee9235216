// A small fixed pool of worker threads for data-parallel loops. Work is split into a fixed
// number of parts chosen by the caller (never by the thread count), so results do not depend on
// how many threads run them.
#pragma once
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

}  // namespace fairdiff
