#include "retrain/stage_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/file.h"

namespace tune::retrain {
namespace {

constexpr size_t kTailBytes = 600;

std::string LogTail(const std::filesystem::path& log) {
  absl::StatusOr<std::string> text = core::ReadFile(log);
  if (!text.ok()) return "";
  return text->size() > kTailBytes ? "..." + text->substr(text->size() - kTailBytes) : *text;
}

}  // namespace

absl::Status RunLogged(const std::filesystem::path& binary, const std::vector<std::string>& args,
                       const std::filesystem::path& log) {
  const std::string command = binary.filename().string() + " " + absl::StrJoin(args, " ");
  const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::PermissionDeniedError(absl::StrFormat("cannot open the log %s: %s", log.string(), std::strerror(errno)));
  }
  const std::string header = "$ " + command + "\n";
  if (write(log_fd, header.data(), header.size()) < 0) {
    close(log_fd);
    return absl::DataLossError(absl::StrFormat("cannot write the log %s", log.string()));
  }
  std::vector<std::string> argv_storage = {binary.string()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::ResourceExhaustedError(absl::StrFormat("cannot start %s: %s", command, std::strerror(errno)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  const std::string how = WIFEXITED(status) ? absl::StrFormat("exit status %d", WEXITSTATUS(status))
                                            : absl::StrFormat("signal %d", WTERMSIG(status));
  return absl::InternalError(absl::StrFormat("`%s` failed (%s); log %s ends:\n%s", command, how, log.string(),
                                             LogTail(log)));
}

}  // namespace tune::retrain
