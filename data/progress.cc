#include "data/progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_format.h"

namespace tune::data {
namespace {
// A terminal is redrawn often; a log gets one line every few seconds.
constexpr auto kTtyInterval = std::chrono::milliseconds(100);
constexpr auto kLogInterval = std::chrono::seconds(5);
}  // namespace

Progress::Progress(std::string label, uint64_t total_files, bool enabled, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_files_(total_files),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t files, uint64_t bytes) {
  files_ += files;
  bytes_ += bytes;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || now - last_print_ < (tty_ ? kTtyInterval : kLogInterval)) return;
  last_print_ = now;
  Print(false);
}

void Progress::Finish() {
  std::lock_guard lock(mu_);
  if (finished_ || !enabled_) return;
  finished_ = true;
  Print(true);
}

void Progress::Print(bool final) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  secs = std::max(secs, 1e-6);
  uint64_t files = files_, bytes = bytes_;
  std::string stats = absl::StrFormat("%s %d/%d %s  %.1f %s/s", label_, files, total_files_,
                                      unit_, files / secs, unit_);
  if (bytes > 0) absl::StrAppendFormat(&stats, "  %.1f MB/s", bytes / secs / 1e6);
  if (!final && files > 0 && files < total_files_) {
    const double left = secs * static_cast<double>(total_files_ - files) / static_cast<double>(files);
    absl::StrAppendFormat(&stats, "  ETA %d:%02d", static_cast<int>(left) / 60, static_cast<int>(left) % 60);
  }
  if (tty_) {
    constexpr int kWidth = 24;
    int filled = total_files_ ? static_cast<int>(kWidth * files / total_files_) : kWidth;
    std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
    std::fprintf(stderr, "\r[%s] %s\033[K%s", bar.c_str(), stats.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s%s\n", stats.c_str(),
                 final ? absl::StrFormat(" (%.1f s)", secs).c_str() : "");
  }
  std::fflush(stderr);
}

}  // namespace tune::data
