#include "retrain/lock.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_format.h"
#include "core/file.h"

namespace tune::retrain {
namespace {

// Creates the lock file with our pid; false when it exists.
absl::StatusOr<bool> TryCreate(const std::filesystem::path& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    return absl::PermissionDeniedError(
        absl::StrFormat("cannot create the lock %s: %s", path.string(), std::strerror(errno)));
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  const bool written = write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
  close(fd);
  if (!written) return absl::DataLossError(absl::StrFormat("cannot write the lock %s", path.string()));
  return true;
}

// A zombie (killed, not yet reaped by its parent: in a container, init may never reap it) is dead.
bool Alive(pid_t pid) {
  if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM)) return false;
  // procfs files report size 0: read them as a stream.
  std::ifstream in(absl::StrFormat("/proc/%d/stat", pid));
  std::string stat;
  std::getline(in, stat);
  const size_t comm_end = stat.rfind(')');  // "pid (comm) S ...": the state follows the name
  return comm_end == std::string::npos || comm_end + 2 >= stat.size() || stat[comm_end + 2] != 'Z';
}

}  // namespace

absl::StatusOr<RunLock> RunLock::Acquire(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "lock";
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<bool> created = TryCreate(path);
    if (!created.ok()) return created.status();
    if (*created) return RunLock(path);
    absl::StatusOr<std::string> owner = core::ReadFile(path);
    const pid_t pid = owner.ok() ? static_cast<pid_t>(std::atol(owner->c_str())) : 0;
    if (Alive(pid)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "another tune retrain (pid %d) is running in %s; hint: wait for it, or if that process is "
          "not tune, remove %s",
          pid, dir.string(), path.string()));
    }
    // Stale (its process is gone, or it was torn mid-write): move it aside, then try once more. Of
    // two runs taking over at once, one rename fails and the O_EXCL create decides.
    std::error_code ec;
    std::filesystem::rename(path, dir / absl::StrFormat("lock.stale.%d", getpid()), ec);
    std::filesystem::remove(dir / absl::StrFormat("lock.stale.%d", getpid()), ec);
  }
  return absl::UnavailableError(absl::StrFormat("could not take the lock %s; try again", path.string()));
}

RunLock::~RunLock() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace tune::retrain
