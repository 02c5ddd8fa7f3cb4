// Held-out evaluation split by whole files (IBM arXiv:2602.05780: partial-file leakage makes
// scores optimistic). Membership depends only on the path and the seed, so it is stable across
// runs and commits; the ingest pipeline adds files changed after a cutoff commit and every path
// a previous dataset held out, and records the result in split.json.
#pragma once

#include <cstdint>
#include <string_view>

namespace tune::data {

// True if `path` falls in the held-out `fraction` (0..1) for `seed`.
bool HeldOutByHash(std::string_view path, double fraction, uint64_t seed);

}  // namespace tune::data
