#include "elementwise.h"

#include "threadPool.h"
#include "vectorMath.h"

namespace fairdiff {

void addArrays(int64_t n, const float* a, const float* b, float* out) {
  forEachChunk(n, [&](int64_t first, int64_t length) {
    eachVector(length, [&](int64_t i, int64_t count) {
      const int64_t at = first + i;
      storePart(out + at, loadPart(a + at, count) + loadPart(b + at, count), count);
    });
  });
}

}  // namespace fairdiff
