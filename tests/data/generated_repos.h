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

// A library of helper modules (lib/<noun>_util.py, three helpers each, named by nonsense words
// no model can guess) and `clients` handler modules (app/handler_NN.py) that import the modules
// and call the helpers with arguments named after their parameters:
//     def handle_3_1(ledger_rows, vexo_rate):
//         result = ledger_util.vexo_ledger_total(ledger_rows, vexo_rate)
//         return {"status": "ok", "value": result}
// A completion of the call needs the helper's definition, which is in another file: what
// retrieval (retrieval/index.h) should find from the code around the cursor. Deterministic.
std::map<std::string, std::string> HelpersRepo(int clients, uint64_t seed = 5);

// Python-named files of random words in random layouts: nothing one file teaches about another.
std::map<std::string, std::string> RandomRepo(int files, uint64_t seed = 11);

}  // namespace tune::testing
