// ReadState: `tune retrain`'s state.json (history, pending run, served version). An accepted
// state must format its history, write back and read back to the same history.
#include "fuzz/fuzz_target.h"
#include "retrain/state.h"

TUNE_FUZZ_TARGET(retrain_state) {
  const std::filesystem::path path = tune::fuzz::WriteInput("state.json", input);
  absl::StatusOr<tune::retrain::RetrainState> state = tune::retrain::ReadState(path);
  if (!state.ok()) return tune::fuzz::CheckError(state.status(), path.string());
  const std::string history = tune::retrain::FormatHistory(*state);
  TUNE_FUZZ_CHECK(tune::retrain::WriteState(path, *state).ok());
  absl::StatusOr<tune::retrain::RetrainState> again = tune::retrain::ReadState(path);
  TUNE_FUZZ_CHECK(again.ok() && tune::retrain::FormatHistory(*again) == history &&
                  again->next_id == state->next_id);
}
