#include "retrain/retrain.h"

#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "data/repo_reader.h"
#include "retrain/lock.h"
#include "retrain/stage_process.h"
#include "retrain/state.h"

namespace tune::retrain {
namespace {

using nlohmann::json;

// Test hook (docs/retrain.md): a run stops and waits, state written, before the named stage, so a
// crash test can kill it there.
constexpr char kHoldEnv[] = "TUNE_RETRAIN_HOLD";

// Where everything of a run directory lives.
struct Layout {
  std::filesystem::path dir;
  std::filesystem::path state() const { return dir / "state.json"; }
  std::filesystem::path dataset() const { return dir / "dataset"; }
  std::filesystem::path served() const { return dir / "served.gguf"; }
  std::filesystem::path version(const std::string& id) const { return dir / "versions" / id; }
  std::filesystem::path adapter(const std::string& id) const { return version(id) / "adapter"; }
  std::filesystem::path gguf(const std::string& id) const { return version(id) / "model.gguf"; }
  std::filesystem::path log(const std::string& id) const { return dir / "logs" / (id + ".log"); }
  std::filesystem::path eval_json(const std::string& id) const { return dir / "eval" / (id + ".json"); }
  std::filesystem::path benchmark(const std::string& id) const { return dir / "eval" / (id + "-benchmark.json"); }
};

std::string NowUtc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void Say(const RetrainOptions& o, const std::string& line) {
  if (!o.quiet) std::fprintf(stderr, "tune retrain: %s\n", line.c_str());
}

// Runs `tune ARGS` into the run's log; `with_config` adds the user's --config and --set values,
// then `stage_overrides` (KEY=VALUE), which win over them for this stage alone.
absl::Status RunTune(const RetrainOptions& o, const Layout& l, const std::string& id, std::vector<std::string> args,
                     bool with_config, const std::vector<std::string>& stage_overrides = {}) {
  if (with_config) {
    if (!o.config.empty()) args.insert(args.end(), {"--config", o.config.string()});
    for (const std::vector<std::string>* sets : {&o.overrides, &stage_overrides}) {
      for (const std::string& s : *sets) args.insert(args.end(), {"--set", s});
    }
  }
  return RunLogged(o.tune_binary, args, l.log(id));
}

absl::StatusOr<std::string> HeadCommit(const std::filesystem::path& repo) {
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<data::RepoReader> reader, data::RepoReader::Open(repo));
  return reader->ResolveCommit("HEAD");
}

void HoldIfAsked(Stage stage) {
  const char* hold = std::getenv(kHoldEnv);
  if (hold == nullptr || StageName(stage) != hold) return;
  std::fprintf(stderr, "tune retrain: holding before %s (%s)\n", hold, kHoldEnv);
  for (;;) pause();
}

// ---- stages ----

absl::Status Ingest(const RetrainOptions& o, const Layout& l, const PendingRun& p) {
  return RunTune(o, l, p.id,
                 {"ingest", "--repo", o.repo.string(), "--rev", p.commit, "--out", l.dataset().string(),
                  "--tokenizer", o.base.string(), "--quiet"},
                 true);
}

absl::Status Train(const RetrainOptions& o, const Layout& l, const PendingRun& p, const std::string& served) {
  const std::filesystem::path adapter = l.adapter(p.id);
  std::error_code ec;
  const bool resumable = std::filesystem::exists(adapter / "checkpoints", ec) &&
                         !std::filesystem::is_empty(adapter / "checkpoints", ec);
  // Killed before its first checkpoint: nothing to resume, start the adapter again.
  if (!resumable) std::filesystem::remove_all(adapter, ec);
  std::vector<std::string> args = {"train", "--data", l.dataset().string(), "--out", adapter.string(),
                                   "--base", o.base.string()};
  if (resumable) args.push_back("--resume");
  // A resumed run passes the same adapter and steps: train refuses a checkpoint of other settings.
  std::vector<std::string> warm_overrides;
  if (o.warm_start && !served.empty()) {
    args.insert(args.end(), {"--init-adapter", l.adapter(served).string()});
    if (o.warm_steps > 0) warm_overrides.push_back(absl::StrFormat("train.steps=%d", o.warm_steps));
    if (o.warm_lr > 0) warm_overrides.push_back(absl::StrFormat("train.lr=%.17g", o.warm_lr));
  }
  return RunTune(o, l, p.id, args, true, warm_overrides);
}

absl::Status Eval(const RetrainOptions& o, const Layout& l, const PendingRun& p, const std::string& served) {
  std::filesystem::create_directories(l.eval_json(p.id).parent_path());
  std::vector<std::string> args = {"eval", "--data", l.dataset().string(), "--base", o.base.string()};
  if (!served.empty()) args.insert(args.end(), {"--base-lora", l.adapter(served).string()});
  args.insert(args.end(), {"--tuned", o.base.string(), "--lora", l.adapter(p.id).string(), "--benchmark",
                           l.benchmark(p.id).string(), "--fim-order", o.fim_order, "--tasks-per-kind",
                           std::to_string(o.tasks_per_kind), "--no-loss", "--quiet", "--json",
                           l.eval_json(p.id).string()});
  return RunTune(o, l, p.id, args, false);
}

struct Decision {
  Scores candidate, served;
  bool promote = false;
  std::string reason;
};

// The gate, from the eval report's overall row in the gated order.
absl::StatusOr<Decision> Decide(const RetrainOptions& o, const Layout& l, const std::string& id) {
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(l.eval_json(id)));
  json report = json::parse(text, nullptr, false);
  if (report.is_object() && report["rows"].is_array()) {
    for (const json& row : report["rows"]) {
      // A field that is missing or not a string (a damaged report) matches nothing.
      auto is = [&row](const char* key, const std::string& want) {
        auto it = row.find(key);
        return it != row.end() && it->is_string() && it->get<std::string>() == want;
      };
      if (!row.is_object() || !is("language", "all") || !is("kind", "all") || !is("order", o.fim_order)) continue;
      // row[metric][side] when it is a number.
      auto number = [&row](const char* metric, const char* side) -> std::optional<double> {
        auto m = row.find(metric);
        if (m == row.end() || !m->is_object()) return std::nullopt;
        auto v = m->find(side);
        return v != m->end() && v->is_number() ? std::optional<double>(v->get<double>()) : std::nullopt;
      };
      const auto served_em = number("exact_match", "base"), cand_em = number("exact_match", "tuned");
      const auto served_es = number("edit_similarity", "base"), cand_es = number("edit_similarity", "tuned");
      if (!served_em || !cand_em || !served_es || !cand_es) break;
      Decision d;
      d.served = {*served_em, *served_es};
      d.candidate = {*cand_em, *cand_es};
      const bool exact = o.metric == "exact_match";
      const double cand = exact ? d.candidate.exact_match : d.candidate.edit_similarity;
      const double served = exact ? d.served.exact_match : d.served.edit_similarity;
      d.promote = cand >= served - o.margin;
      d.reason = absl::StrFormat("%s %.4f vs served %.4f (margin %.4f)", o.metric, cand, served, o.margin);
      return d;
    }
  }
  return absl::DataLossError(absl::StrFormat("%s: no overall %s row; hint: the eval stage did not finish",
                                             l.eval_json(id).string(), o.fim_order));
}

absl::Status Export(const RetrainOptions& o, const Layout& l, const PendingRun& p) {
  return RunTune(o, l, p.id,
                 {"export", "--base", o.base.string(), "--adapter", l.adapter(p.id).string(), "--quant", o.quant,
                  "--out", l.gguf(p.id).string()},
                 false);
}

// served.gguf becomes the version's file in one rename: a server reloading at any moment opens
// either the old file or the new one. A hard link costs no copy; a copy where links fail.
absl::Status SwapServed(const Layout& l, const std::string& id) {
  const std::filesystem::path tmp = l.dir / "served.gguf.tmp";
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  std::filesystem::create_hard_link(l.gguf(id), tmp, ec);
  if (ec) std::filesystem::copy_file(l.gguf(id), tmp, ec);
  if (ec) return absl::DataLossError(absl::StrFormat("cannot stage %s: %s", tmp.string(), ec.message()));
  std::filesystem::rename(tmp, l.served(), ec);
  if (ec) return absl::DataLossError(absl::StrFormat("cannot replace %s: %s", l.served().string(), ec.message()));
  return absl::OkStatus();
}

// Asks the server to re-read served.gguf. The swap is done either way: a failure is reported.
std::string RequestReload(const RetrainOptions& o) {
  if (o.serve_url.empty()) return "no retrain.serve_url: restart or SIGHUP tune serve to load it";
  httplib::Client client(o.serve_url);
  client.set_read_timeout(std::chrono::minutes(5));
  httplib::Result r = client.Post("/admin/reload");
  if (!r) return absl::StrFormat("reload request to %s failed: %s", o.serve_url, httplib::to_string(r.error()));
  if (r->status != 200) return absl::StrFormat("reload request to %s answered %d: %s", o.serve_url, r->status, r->body);
  return absl::StrFormat("%s reloaded", o.serve_url);
}

// Keeps the served version and the newest promoted ones up to `keep`; removes other versions.
void Prune(const RetrainOptions& o, const Layout& l, const RetrainState& state) {
  std::set<std::string> kept = {state.served};
  for (auto it = state.runs.rbegin(); it != state.runs.rend() && static_cast<int64_t>(kept.size()) < o.keep; ++it) {
    if (it->outcome == "promoted") kept.insert(it->id);
  }
  std::error_code ec;
  if (!std::filesystem::exists(l.dir / "versions", ec)) return;
  for (const auto& entry : std::filesystem::directory_iterator(l.dir / "versions", ec)) {
    const std::string id = entry.path().filename().string();
    const bool pending = state.pending && state.pending->id == id;
    if (!kept.count(id) && !pending) std::filesystem::remove_all(entry.path(), ec);
  }
}

// ---- finishing a run ----

RunRecord Record(const PendingRun& p, const std::string& outcome, const std::string& reason) {
  RunRecord r;
  r.id = p.id;
  r.commit = p.commit;
  r.started = p.started;
  r.finished = NowUtc();
  r.outcome = outcome;
  r.reason = reason;
  return r;
}

absl::Status Fail(const RetrainOptions& o, const Layout& l, RetrainState& state, Stage stage, const absl::Status& error) {
  RunRecord r = Record(*state.pending, "failed", std::string(error.message()).substr(0, 300));
  r.stage = std::string(StageName(stage));
  state.runs.push_back(r);
  state.pending.reset();
  TUNE_RETURN_IF_ERROR(WriteState(l.state(), state));
  Prune(o, l, state);
  return core::Annotate(error, absl::StrFormat("retrain stage %s failed (the served model is unchanged; "
                                               "the next run tries this commit again)",
                                               StageName(stage)));
}

absl::StatusOr<RetrainOutcome> Reject(const RetrainOptions& o, const Layout& l, RetrainState& state, const Decision& d) {
  RunRecord r = Record(*state.pending, "rejected", d.reason);
  r.candidate = d.candidate;
  r.served = d.served;
  r.served_id = state.served;
  state.last_commit = state.pending->commit;
  state.runs.push_back(r);
  state.pending.reset();
  TUNE_RETURN_IF_ERROR(WriteState(l.state(), state));
  Prune(o, l, state);
  return RetrainOutcome{"rejected", absl::StrFormat("%s rejected: %s; still serving %s", r.id, d.reason,
                                                    state.served.empty() ? "nothing" : state.served)};
}

absl::StatusOr<RetrainOutcome> Promote(const RetrainOptions& o, const Layout& l, RetrainState& state) {
  TUNE_ASSIGN_OR_RETURN(Decision d, Decide(o, l, state.pending->id));
  TUNE_RETURN_IF_ERROR(SwapServed(l, state.pending->id));
  std::error_code ec;  // training checkpoints are only needed to resume this run
  std::filesystem::remove_all(l.adapter(state.pending->id) / "checkpoints", ec);
  RunRecord r = Record(*state.pending, "promoted", d.reason);
  r.candidate = d.candidate;
  r.served = d.served;
  r.served_id = state.served;
  state.served = r.id;
  state.last_commit = r.commit;
  state.pending.reset();
  const std::string reload = RequestReload(o);
  r.reason += "; " + reload;
  state.runs.push_back(r);
  TUNE_RETURN_IF_ERROR(WriteState(l.state(), state));
  Prune(o, l, state);
  return RetrainOutcome{"promoted", absl::StrFormat("%s promoted (%s); serving %s", r.id, r.reason, l.served().string())};
}

absl::Status RunStage(const RetrainOptions& o, const Layout& l, const RetrainState& state, Stage stage) {
  const PendingRun& p = *state.pending;
  switch (stage) {
    case Stage::kIngest:
      return Ingest(o, l, p);
    case Stage::kTrain:
      return Train(o, l, p, state.served);
    case Stage::kEval:
      return Eval(o, l, p, state.served);
    case Stage::kExport:
      return Export(o, l, p);
    case Stage::kSwap:
      return absl::OkStatus();  // Promote does it, with the state update
  }
  return absl::InternalError("unknown stage");
}

// Runs the pending run from its stage to the end.
absl::StatusOr<RetrainOutcome> Continue(const RetrainOptions& o, const Layout& l, RetrainState& state) {
  for (Stage stage : kStages) {
    if (stage < state.pending->stage) continue;
    state.pending->stage = stage;
    TUNE_RETURN_IF_ERROR(WriteState(l.state(), state));
    HoldIfAsked(stage);
    Say(o, absl::StrFormat("%s: %s (log %s)", state.pending->id, StageName(stage), l.log(state.pending->id).string()));
    if (stage == Stage::kSwap) return Promote(o, l, state);
    absl::Status st = RunStage(o, l, state, stage);
    if (!st.ok()) return Fail(o, l, state, stage, st);
    if (stage == Stage::kEval) {
      absl::StatusOr<Decision> d = Decide(o, l, state.pending->id);
      if (!d.ok()) return Fail(o, l, state, stage, d.status());
      if (!d->promote) return Reject(o, l, state, *d);
    }
  }
  return absl::InternalError("retrain: the stages ended without a swap");
}

// The state, once the lock is held; the logs directory made.
absl::StatusOr<RetrainState> LockedState(const Layout& l) {
  std::error_code ec;
  std::filesystem::create_directories(l.dir / "logs", ec);
  if (ec) return absl::PermissionDeniedError(absl::StrFormat("cannot create %s: %s", l.dir.string(), ec.message()));
  return ReadState(l.state());
}

}  // namespace

absl::StatusOr<RetrainOptions> ParseRetrainOptions(const core::Config& config) {
  RetrainOptions o;
  core::SectionReader r(config, "retrain");
  std::string dir = o.dir.string();
  TUNE_RETURN_IF_ERROR(r.Read("dir", dir));
  o.dir = dir;
  TUNE_RETURN_IF_ERROR(r.ReadChoice("quant", o.quant, {"F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M"}));
  TUNE_RETURN_IF_ERROR(r.ReadChoice("metric", o.metric, {"edit_similarity", "exact_match"}));
  TUNE_RETURN_IF_ERROR(r.Read("margin", o.margin, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.ReadChoice("fim_order", o.fim_order, {"psm", "spm"}));
  TUNE_RETURN_IF_ERROR(r.Read("keep", o.keep, 1, 1000));
  TUNE_RETURN_IF_ERROR(r.Read("tasks_per_kind", o.tasks_per_kind, 1, 100000));
  TUNE_RETURN_IF_ERROR(r.Read("serve_url", o.serve_url));
  TUNE_RETURN_IF_ERROR(r.Read("warm_start", o.warm_start));
  TUNE_RETURN_IF_ERROR(r.Read("warm_steps", o.warm_steps, 0, 10000000));
  TUNE_RETURN_IF_ERROR(r.Read("warm_lr", o.warm_lr, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Finish());
  return o;
}

absl::StatusOr<RetrainOutcome> RunRetrain(const RetrainOptions& o) {
  const Layout l{o.dir};
  std::error_code ec;
  std::filesystem::create_directories(l.dir, ec);
  TUNE_ASSIGN_OR_RETURN(RunLock lock, RunLock::Acquire(l.dir));
  TUNE_ASSIGN_OR_RETURN(RetrainState state, LockedState(l));
  if (state.pending) {
    Say(o, absl::StrFormat("resuming %s (commit %.12s) at %s", state.pending->id, state.pending->commit,
                           StageName(state.pending->stage)));
  } else {
    TUNE_ASSIGN_OR_RETURN(std::string head, HeadCommit(o.repo));
    if (head == state.last_commit) {
      return RetrainOutcome{"noop", absl::StrFormat("nothing to do: %.12s is already trained", head)};
    }
    state.pending = PendingRun{state.NewRunId(), head, NowUtc(), Stage::kIngest};
  }
  return Continue(o, l, state);
}

absl::StatusOr<RetrainOutcome> Rollback(const RetrainOptions& o) {
  const Layout l{o.dir};
  TUNE_ASSIGN_OR_RETURN(RunLock lock, RunLock::Acquire(l.dir));
  TUNE_ASSIGN_OR_RETURN(RetrainState state, LockedState(l));
  // The newest version promoted before the served one, still on disk.
  std::string previous;
  bool past_served = state.served.empty();
  for (auto it = state.runs.rbegin(); it != state.runs.rend(); ++it) {
    if (it->outcome != "promoted") continue;
    if (!past_served) {
      past_served = it->id == state.served;
      continue;
    }
    if (std::filesystem::exists(l.gguf(it->id))) {
      previous = it->id;
      break;
    }
  }
  if (previous.empty()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: no earlier promoted version on disk to roll back to (serving %s); see `tune retrain --status`",
        l.dir.string(), state.served.empty() ? "nothing" : state.served));
  }
  TUNE_RETURN_IF_ERROR(SwapServed(l, previous));
  RunRecord r;
  r.id = previous;
  r.commit = "";
  for (const RunRecord& run : state.runs) {
    if (run.id == previous) r.commit = run.commit;
  }
  r.started = r.finished = NowUtc();
  r.outcome = "rollback";
  r.served_id = state.served;
  r.reason = absl::StrFormat("rolled back from %s to %s; %s", state.served, previous, RequestReload(o));
  state.served = previous;
  state.runs.push_back(r);
  TUNE_RETURN_IF_ERROR(WriteState(l.state(), state));
  return RetrainOutcome{"rollback", r.reason};
}

absl::StatusOr<std::string> HistoryTable(const std::filesystem::path& dir) {
  TUNE_ASSIGN_OR_RETURN(RetrainState state, ReadState(dir / "state.json"));
  return FormatHistory(state);
}

}  // namespace tune::retrain
