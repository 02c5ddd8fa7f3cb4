// Repositories generated for end-to-end tests of learning (tests/eval, tests/retrain).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace tune::testing {

// A service whose Python modules all follow one house style: the same imports, an internal
// decorator and event helper around every handler, the same body shape; only names vary. What a
// model can only know from the repository. Deterministic for a seed.
std::map<std::string, std::string> ConventionsRepo(int files, uint64_t seed = 7);

// Python-named files of random words in random layouts: nothing one file teaches about another.
std::map<std::string, std::string> RandomRepo(int files, uint64_t seed = 11);

}  // namespace tune::testing
