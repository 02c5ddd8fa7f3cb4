#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace tune::eval {
namespace {

using nlohmann::json;

std::string PValue(double p) { return p < 0.001 ? "<.001" : absl::StrFormat("%.3f", p); }

std::string Delta(const PairedComparison& c) {
  return absl::StrFormat("%+.3f [%+.3f,%+.3f] p=%s%s", c.delta, c.ci_low, c.ci_high, PValue(c.p_value),
                         c.significant() ? "*" : " ");
}

std::string Rate(double r) { return r < 0 ? "  -  " : absl::StrFormat("%.2f", r); }

std::string ModelLine(const ModelResult& m) {
  std::string line = absl::StrFormat("%-6s %s", m.label + ":", m.description);
  if (m.heldout_loss) {
    absl::StrAppendFormat(&line, "  held-out loss %.4f (perplexity %.2f)", *m.heldout_loss,
                          std::exp(*m.heldout_loss));
  }
  return line;
}

// The retrieval section: recall@k, then every arm against base per order.
std::string FormatArms(const EvalReport& report) {
  if (!report.recall) return "";
  const RetrievalRecall& r = *report.recall;
  std::string out = absl::StrFormat(
      "\nretrieval: recall@%d %.2f (%d of %d tasks whose middle uses a name that one chunk of another "
      "file defines; index of %d chunks)\n",
      r.k, r.recall(), r.found, r.tasks, r.index_chunks);
  out += absl::StrFormat("%-16s %-5s %5s | %-40s | %-40s | %s\n", "arm", "order", "n",
                         "exact match: arm, delta vs base [95% CI] p", "edit similarity: arm, delta vs base",
                         "ms/task");
  for (const ArmRow& a : report.arm_rows) {
    out += absl::StrFormat("%-16s %-5s %5d | %.3f %-34s | %.3f %-34s | %.0f\n", a.arm, FimOrderName(a.order),
                           a.exact.n, a.exact.tuned_mean, Delta(a.exact), a.edit.tuned_mean, Delta(a.edit), a.ms);
  }
  return out;
}

}  // namespace

std::string FormatTable(const EvalReport& report) {
  const Benchmark& b = report.benchmark;
  std::string out = absl::StrFormat("benchmark %s: %d tasks from %d held-out files at commit %.12s (seed %d)\n",
                                    report.benchmark_path.string(), b.tasks.size(), b.files.size(),
                                    b.dataset_commit, b.seed);
  out += ModelLine(report.base) + "\n";
  if (report.tuned) out += ModelLine(*report.tuned) + "\n";
  const bool paired = report.tuned.has_value();
  out += absl::StrFormat("\n%-12s %-6s %-5s %5s | %-46s | %-46s | %-11s | %s\n", "language", "kind", "order", "n",
                         paired ? "exact match: base tuned delta [95% CI] p" : "exact match",
                         paired ? "edit similarity: base tuned delta [95% CI] p" : "edit similarity",
                         paired ? "parses b/t" : "parses", paired ? "ms/task b/t" : "ms/task");
  for (const GroupRow& r : report.rows) {
    std::string em = absl::StrFormat("%.3f", r.exact.base_mean), es = absl::StrFormat("%.3f", r.edit.base_mean);
    std::string parse = Rate(r.base_parse), ms = absl::StrFormat("%.0f", r.base_ms);
    if (paired) {
      em += absl::StrFormat(" %.3f %s", r.exact.tuned_mean, Delta(r.exact));
      es += absl::StrFormat(" %.3f %s", r.edit.tuned_mean, Delta(r.edit));
      parse += "/" + Rate(r.tuned_parse);
      ms += absl::StrFormat("/%.0f", r.tuned_ms);
    }
    out += absl::StrFormat("%-12s %-6s %-5s %5d | %-46s | %-46s | %-11s | %s\n", r.language, r.kind,
                           FimOrderName(r.order), r.n, em, es, parse, ms);
  }
  if (paired || !report.arm_rows.empty()) {
    out += "\n* p < 0.05: exact McNemar test (exact match), paired sign-flip test (edit similarity); "
           "intervals: paired bootstrap.\n";
  }
  out += FormatArms(report);
  return out;
}

namespace {

json ComparisonJson(const PairedComparison& c) {
  return {{"n", c.n},         {"base", c.base_mean},  {"tuned", c.tuned_mean}, {"delta", c.delta},
          {"ci95", {c.ci_low, c.ci_high}}, {"p_value", c.p_value}, {"significant", c.significant()}};
}

json RowJson(const GroupRow& r, bool paired) {
  json j = {{"language", r.language}, {"kind", r.kind}, {"order", FimOrderName(r.order)}, {"n", r.n}};
  if (paired) {
    j["exact_match"] = ComparisonJson(r.exact);
    j["edit_similarity"] = ComparisonJson(r.edit);
    j["parse_rate"] = {{"base", r.base_parse < 0 ? json() : json(r.base_parse)},
                       {"tuned", r.tuned_parse < 0 ? json() : json(r.tuned_parse)}};
    j["latency_ms"] = {{"base", r.base_ms}, {"tuned", r.tuned_ms}};
  } else {
    j["exact_match"] = r.exact.base_mean;
    j["edit_similarity"] = r.edit.base_mean;
    j["parse_rate"] = r.base_parse < 0 ? json() : json(r.base_parse);
    j["latency_ms"] = r.base_ms;
  }
  return j;
}

json ModelJson(const ModelResult& m) {
  json j = {{"label", m.label}, {"description", m.description}};
  j["heldout_loss"] = m.heldout_loss ? json(*m.heldout_loss) : json();
  j["heldout_perplexity"] = m.heldout_loss ? json(std::exp(*m.heldout_loss)) : json();
  return j;
}

}  // namespace

std::string ToJson(const EvalReport& report) {
  const Benchmark& b = report.benchmark;
  const bool paired = report.tuned.has_value();
  json rows = json::array(), tasks = json::array(), models = json::array({ModelJson(report.base)});
  if (paired) models.push_back(ModelJson(*report.tuned));
  std::vector<const ModelResult*> results = {&report.base};
  if (paired) results.push_back(&*report.tuned);
  for (const ModelResult& arm : report.retrieval_arms) {
    models.push_back(ModelJson(arm));
    results.push_back(&arm);
  }
  for (const GroupRow& r : report.rows) rows.push_back(RowJson(r, paired));
  for (size_t i = 0; i < report.base.results.size(); ++i) {
    const TaskResult& base = report.base.results[i];
    const Task& t = b.tasks[static_cast<size_t>(base.task)];
    json task = {{"task", base.task},
                 {"path", b.files[t.file].path},
                 {"language", b.files[t.file].language},
                 {"kind", TaskKindName(t.kind)},
                 {"order", FimOrderName(base.order)},
                 {"expected", std::string(b.middle(t))}};
    for (const ModelResult* m : results) {
      const TaskResult& r = m->results[i];
      task[m->label] = {{"completion", r.completion},
                        {"exact", r.exact},
                        {"edit_similarity", r.edit_similarity},
                        {"parses", r.parses ? json(*r.parses) : json()},
                        {"latency_ms", r.latency_ms},
                        {"prompt_tokens", r.prompt_tokens},
                        {"generated_tokens", r.generated_tokens}};
    }
    tasks.push_back(std::move(task));
  }
  json j = {{"format", "tune-eval-report"},
            {"format_version", 1},
            {"benchmark",
             {{"path", report.benchmark_path.string()},
              {"dataset_commit", b.dataset_commit},
              {"seed", b.seed},
              {"tasks", b.tasks.size()},
              {"files", b.files.size()}}},
            {"models", models},
            {"rows", rows},
            {"tasks", tasks}};
  if (report.recall) {
    json arms = json::array();
    for (const ArmRow& a : report.arm_rows) {
      arms.push_back({{"arm", a.arm}, {"order", FimOrderName(a.order)}, {"exact_match", ComparisonJson(a.exact)},
                      {"edit_similarity", ComparisonJson(a.edit)}, {"latency_ms", a.ms}});
    }
    const RetrievalRecall& r = *report.recall;
    j["retrieval"] = {{"k", r.k},         {"index_chunks", r.index_chunks}, {"tasks_using_definitions", r.tasks},
                      {"found", r.found}, {"recall_at_k", r.recall()},      {"arms", arms}};
  }
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

namespace {

std::string Escape(const std::string& s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

// One bar per language (all kinds, each order): the edit-similarity delta with its interval.
std::string DeltaChart(const EvalReport& report) {
  std::vector<const GroupRow*> bars;
  for (const GroupRow& r : report.rows) {
    if (r.kind == "all") bars.push_back(&r);
  }
  double extent = 0.05;
  for (const GroupRow* r : bars) extent = std::max({extent, std::abs(r->edit.ci_low), std::abs(r->edit.ci_high)});
  constexpr int kRow = 26, kLabel = 170, kWidth = 420;
  const int height = kRow * static_cast<int>(bars.size()) + 30;
  const double zero = kLabel + kWidth / 2.0, scale = kWidth / 2.0 / extent;
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%d\" stroke=\"#555\"/>\n",
      kLabel + kWidth + 60, height, zero, zero, height - 20);
  for (size_t i = 0; i < bars.size(); ++i) {
    const GroupRow& r = *bars[i];
    const double y = static_cast<double>(i) * kRow + 4, x = zero + std::min(0.0, r.edit.delta) * scale;
    svg += absl::StrFormat(
        "<text x=\"4\" y=\"%.1f\">%s (%s, n=%d)</text>\n"
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" fill=\"%s\"/>\n"
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n"
        "<text x=\"%d\" y=\"%.1f\">%+.3f%s</text>\n",
        y + 12, Escape(r.language), FimOrderName(r.order), r.n, x, y, std::abs(r.edit.delta) * scale,
        r.edit.delta >= 0 ? "#4a9a4a" : "#c0504d", zero + r.edit.ci_low * scale, y + 8,
        zero + r.edit.ci_high * scale, y + 8, kLabel + kWidth + 4, y + 12, r.edit.delta,
        r.edit.significant() ? " *" : "");
  }
  svg += absl::StrFormat("<text x=\"%d\" y=\"%d\">edit similarity, tuned - base (bars), 95%% interval "
                         "(lines); * p &lt; 0.05</text>\n</svg>\n", kLabel, height - 4);
  return svg;
}

}  // namespace

std::string FormatHtml(const EvalReport& report) {
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tune eval</title>\n"
      "<style>body{font-family:sans-serif;margin:2em;max-width:80em}pre{background:#f6f6f6;"
      "padding:1em;overflow-x:auto;font-size:12px}</style></head><body>\n<h1>tune eval</h1>\n";
  if (report.tuned) html += "<h2>Per-language delta</h2>\n" + DeltaChart(report);
  html += "<h2>Table</h2>\n<pre>" + Escape(FormatTable(report)) + "</pre>\n</body></html>\n";
  // Paths may hold invalid UTF-8 and the page is declared UTF-8: replace it as the JSON does.
  return json::parse(json(html).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

}  // namespace tune::eval
