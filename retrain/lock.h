// One `tune retrain` at a time per run directory: <dir>/lock holds the owner's pid. A lock whose
// process is gone (killed, machine rebooted) is stale and taken over; a live owner is an error.
#pragma once

#include <filesystem>

#include "absl/status/statusor.h"

namespace tune::retrain {

class RunLock {
 public:
  // FailedPrecondition naming the pid when a live process holds the lock.
  static absl::StatusOr<RunLock> Acquire(const std::filesystem::path& dir);
  RunLock(RunLock&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  RunLock& operator=(RunLock&&) = delete;
  RunLock(const RunLock&) = delete;
  ~RunLock();  // removes the lock file

 private:
  explicit RunLock(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace tune::retrain
