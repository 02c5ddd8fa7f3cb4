// ReadHeldOut: the header line and one JSON line per held-out file (with context files). An
// accepted set must write back and read back the same.
#include "data/heldout.h"
#include "fuzz/fuzz_target.h"

namespace {

bool SameFiles(const tune::data::HeldOutSet& a, const tune::data::HeldOutSet& b) {
  if (a.commit != b.commit || a.repo_name != b.repo_name || a.files.size() != b.files.size()) {
    return false;
  }
  for (size_t i = 0; i < a.files.size(); ++i) {
    if (a.files[i].path != b.files[i].path || a.files[i].text != b.files[i].text ||
        a.files[i].context.size() != b.files[i].context.size()) {
      return false;
    }
  }
  return true;
}

}  // namespace

TUNE_FUZZ_TARGET(heldout) {
  const std::filesystem::path path = tune::fuzz::WriteInput(tune::data::kHeldOutFileName, input);
  absl::StatusOr<tune::data::HeldOutSet> set = tune::data::ReadHeldOut(path.parent_path());
  if (!set.ok()) return tune::fuzz::CheckError(set.status(), path.string());
  TUNE_FUZZ_CHECK(tune::data::WriteHeldOut(path.parent_path(), *set).ok());
  absl::StatusOr<tune::data::HeldOutSet> again = tune::data::ReadHeldOut(path.parent_path());
  TUNE_FUZZ_CHECK(again.ok() && SameFiles(*set, *again));
}
