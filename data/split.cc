#include "data/split.h"

#include <xxhash.h>

namespace tune::data {

bool HeldOutByHash(std::string_view path, double fraction, uint64_t seed) {
  uint64_t h = XXH64(path.data(), path.size(), seed);
  // Top 53 bits as a uniform double in [0, 1).
  double u = static_cast<double>(h >> 11) * 0x1.0p-53;
  return u < fraction;
}

}  // namespace tune::data
