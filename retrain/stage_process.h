// Each stage of `tune retrain` runs as a child `tune` process (ingest, train, eval, export): its
// output goes to the run's log, and a crash or an out-of-memory kill in a stage cannot leave the
// retrain state half-written. The child dies with its parent (PR_SET_PDEATHSIG), so a killed
// retrain never leaves a trainer running beside the next one.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tune::retrain {

// Runs `binary args...`, stdout and stderr appended to `log`. Internal naming the command and its
// exit status, with the log's last lines, when it does not exit 0.
absl::Status RunLogged(const std::filesystem::path& binary, const std::vector<std::string>& args,
                       const std::filesystem::path& log);

}  // namespace tune::retrain
