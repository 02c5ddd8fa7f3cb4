#include "data/progress.h"

#include "absl/strings/str_format.h"
#include "core/progress.h"

namespace tune::data {

Progress::Progress(std::string label, uint64_t total_files, bool enabled, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_files_(total_files),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t files, uint64_t bytes) {
  files_ += files;
  bytes_ += bytes;
  if (!enabled_) return;
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || !core::ShouldPrint(last_print_, false)) return;
  last_print_ = std::chrono::steady_clock::now();
  Print(false);
}

void Progress::Finish() {
  std::lock_guard lock(mu_);
  if (finished_ || !enabled_) return;
  finished_ = true;
  Print(true);
}

void Progress::Print(bool final) {
  const double secs =
      std::max(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(), 1e-6);
  const uint64_t files = files_, bytes = bytes_;
  core::ProgressUpdate u;
  u.stage = label_;
  u.done = files;
  u.total = total_files_;
  u.unit = unit_;
  u.seconds = secs;
  u.text = absl::StrFormat("%s %d/%d %s  %.1f %s/s", label_, files, total_files_, unit_, files / secs, unit_);
  if (bytes > 0) {
    u.fields.push_back({"mb_per_s", bytes / secs / 1e6});
    absl::StrAppendFormat(&u.text, "  %.1f MB/s", bytes / secs / 1e6);
  }
  core::PrintProgress(u, final);
}

}  // namespace tune::data
