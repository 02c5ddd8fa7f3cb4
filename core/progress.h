// How long-running stages report progress on stderr, for the whole process. `tune --progress MODE
// <command>` sets it once; ingest, train and eval follow it.
//   auto   one line redrawn in place on a terminal, a plain line every few seconds otherwise
//   plain  a plain line every few seconds (logs, CI)
//   json   one JSON object per line, every few seconds and at the end (machines):
//          {"event": "progress" | "done", "stage": "train", "done": 120, "total": 200,
//           "unit": "steps", "rate": 3.1, "eta_s": 25.8, ...stage fields (loss, lr)}
//   none   nothing (a command's --quiet does the same for that command)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tune::core {

enum class ProgressMode { kAuto, kPlain, kJson, kNone };

void SetProgressMode(ProgressMode mode);
ProgressMode GetProgressMode();
// "auto" | "plain" | "json" | "none"; false for another word.
bool ParseProgressMode(std::string_view name, ProgressMode& mode);

// What a stage reports at one moment.
struct ProgressUpdate {
  std::string_view stage;  // "ingest", "train", "eval"
  uint64_t done = 0, total = 0;
  std::string_view unit;  // "files", "steps", "tasks"
  double seconds = 0;     // since the stage started
  double rate = -1, eta_s = -1;  // when the stage knows better than done / seconds (a resumed run)
  std::vector<std::pair<std::string, double>> fields;  // stage numbers: loss, lr, MB/s ...
  std::string text;       // the human line (without bar and time left), for auto and plain
};

// Prints `update` as the mode says, the human modes with "ETA m:ss" (the stage's eta_s, else from
// done / seconds) or, when `final`, the elapsed time; `final` ends the stage (a newline on a
// terminal, "done" in json). Callers throttle: ShouldPrint says whether enough time passed since `last`.
void PrintProgress(const ProgressUpdate& update, bool final);
bool ShouldPrint(std::chrono::steady_clock::time_point last, bool final);

}  // namespace tune::core
