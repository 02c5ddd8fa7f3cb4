#include "core/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/str_format.h"

namespace tune::core {
namespace {

std::atomic<ProgressMode> g_mode{ProgressMode::kAuto};

constexpr auto kTtyInterval = std::chrono::milliseconds(100);
constexpr auto kLogInterval = std::chrono::seconds(5);
constexpr int kBarWidth = 24;

bool OnTerminal() { return g_mode.load() == ProgressMode::kAuto && isatty(STDERR_FILENO) == 1; }

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

}  // namespace

void SetProgressMode(ProgressMode mode) { g_mode = mode; }
ProgressMode GetProgressMode() { return g_mode.load(); }

bool ParseProgressMode(std::string_view name, ProgressMode& mode) {
  if (name == "auto") mode = ProgressMode::kAuto;
  else if (name == "plain") mode = ProgressMode::kPlain;
  else if (name == "json") mode = ProgressMode::kJson;
  else if (name == "none") mode = ProgressMode::kNone;
  else return false;
  return true;
}

bool ShouldPrint(std::chrono::steady_clock::time_point last, bool final) {
  return final || std::chrono::steady_clock::now() - last >= (OnTerminal() ? kTtyInterval : kLogInterval);
}

void PrintProgress(const ProgressUpdate& u, bool final) {
  const ProgressMode mode = g_mode.load();
  if (mode == ProgressMode::kNone) return;
  const double rate = u.rate >= 0 ? u.rate : u.seconds > 0 ? static_cast<double>(u.done) / u.seconds : 0;
  const double eta = u.eta_s >= 0                       ? u.eta_s
                     : rate > 0 && u.total > u.done ? static_cast<double>(u.total - u.done) / rate
                                                    : 0;
  if (mode == ProgressMode::kJson) {
    std::string line = absl::StrFormat(
        "{\"event\": \"%s\", \"stage\": \"%s\", \"done\": %d, \"total\": %d, \"unit\": \"%s\", \"rate\": %.4g, "
        "\"eta_s\": %.1f, \"elapsed_s\": %.1f",
        final ? "done" : "progress", JsonEscape(u.stage), u.done, u.total, JsonEscape(u.unit), rate, eta, u.seconds);
    for (const auto& [name, value] : u.fields) absl::StrAppendFormat(&line, ", \"%s\": %.6g", JsonEscape(name), value);
    std::fprintf(stderr, "%s}\n", line.c_str());
    std::fflush(stderr);
    return;
  }
  // The human line: the stage's text, then the time left (or, at the end, the time it took).
  const std::string text = final    ? absl::StrFormat("%s  (%.1f s)", u.text, u.seconds)
                           : eta > 0 ? absl::StrFormat("%s  ETA %d:%02d", u.text, static_cast<int>(eta) / 60,
                                                       static_cast<int>(eta) % 60)
                                     : u.text;
  if (OnTerminal()) {
    const int filled = u.total ? static_cast<int>(kBarWidth * std::min(u.done, u.total) / u.total) : kBarWidth;
    std::fprintf(stderr, "\r[%s%s] %s\033[K%s", std::string(filled, '#').c_str(),
                 std::string(kBarWidth - filled, '.').c_str(), text.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

}  // namespace tune::core
