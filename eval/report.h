// What `tune eval` prints and writes: a side-by-side table for the terminal, a JSON document for
// machines (every row, every task's completion and score) and a one-page HTML report with a chart
// of the per-language deltas. All UTF-8; invalid bytes in completions are replaced.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "eval/run_eval.h"

namespace tune::eval {

// Rows: language, kind, order, n, then exact match and edit similarity as base / tuned / delta
// with its 95% interval and p-value (a '*' marks p < 0.05), parse rate and mean latency. With
// retrieval arms, a second table: recall@k, then each arm's scores and delta against base.
std::string FormatTable(const EvalReport& report);

// {"format": "tune-eval-report", "format_version": 1, "benchmark": {...}, "models": [...],
//  "rows": [...], "tasks": [...], "retrieval": {"k", "recall_at_k", ..., "arms": [...]}}; each
//  task holds every model's and arm's completion under its label ("base+retrieval", ...).
std::string ToJson(const EvalReport& report);

std::string FormatHtml(const EvalReport& report);

}  // namespace tune::eval
