// `tune retrain`: one scheduled retraining run (retrain/retrain.h), or --status / --rollback.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "core/status.h"
#include "model/model_options.h"
#include "retrain/retrain.h"

namespace tune::cli {
namespace {

struct RetrainFlags {
  ConfigFlags config;
  std::string repo = ".", dir, base, serve_url;
  bool status = false, rollback = false, quiet = false;
};

absl::StatusOr<retrain::RetrainOptions> ToOptions(const RetrainFlags& f) {
  retrain::RetrainOptions o;
  TUNE_ASSIGN_OR_RETURN(std::optional<core::Config> config, LoadConfigFlags(f.config));
  if (config) {
    TUNE_ASSIGN_OR_RETURN(o, retrain::ParseRetrainOptions(*config));
    // The base model: model.base unless --base.
    TUNE_ASSIGN_OR_RETURN(model::ModelOptions model, model::ParseModelOptions(*config));
    o.base = model.base;
  }
  o.config = f.config.path;
  o.overrides = f.config.overrides;
  o.repo = f.repo;
  if (!f.dir.empty()) o.dir = f.dir;
  if (!f.base.empty()) o.base = f.base;
  if (!f.serve_url.empty()) o.serve_url = f.serve_url;
  o.quiet = f.quiet;
  if (o.dir.empty()) return absl::InvalidArgumentError("no run directory; hint: pass --dir DIR or set retrain.dir");
  if (o.base.empty() && !f.status && !f.rollback) {
    return absl::InvalidArgumentError("no base model; hint: pass --base HF_DIR or set model.base");
  }
  return o;
}

absl::Status RunRetrainCommand(const RetrainFlags& f) {
  TUNE_ASSIGN_OR_RETURN(retrain::RetrainOptions o, ToOptions(f));
  if (f.status) {
    TUNE_ASSIGN_OR_RETURN(std::string table, retrain::HistoryTable(o.dir));
    std::fputs(table.c_str(), stdout);
    return absl::OkStatus();
  }
  TUNE_ASSIGN_OR_RETURN(retrain::RetrainOutcome outcome, f.rollback ? retrain::Rollback(o) : retrain::RunRetrain(o));
  std::printf("%s: %s\n", outcome.outcome.c_str(), outcome.message.c_str());
  return absl::OkStatus();
}

}  // namespace

void RegisterRetrainCommand(CLI::App& app, absl::Status& result) {
  auto f = std::make_shared<RetrainFlags>();
  CLI::App* cmd = app.add_subcommand(
      "retrain", "one scheduled run: ingest new commits, train, eval against the served model, and "
                 "promote (export, atomic swap, server reload) only if not worse; or --status, --rollback");
  cmd->add_option("--repo", f->repo, "the local git repository (nothing is fetched)")->capture_default_str();
  cmd->add_option("--dir", f->dir, "run directory: state.json, dataset, versions, served.gguf, logs (default: retrain.dir)");
  cmd->add_option("--base", f->base, "Hugging Face base model directory (default: model.base)");
  AddConfigFlags(cmd, f->config);
  cmd->add_option("--serve-url", f->serve_url, "tune serve to reload after a swap, e.g. http://127.0.0.1:8012 (default: retrain.serve_url)");
  cmd->add_flag("--status", f->status, "print the history of runs and what is served");
  cmd->add_flag("--rollback", f->rollback, "serve the previously promoted version again (atomic swap + reload)");
  cmd->add_flag("--quiet", f->quiet, "no stage lines on stderr");
  cmd->callback([f, &result] { result = RunRetrainCommand(*f); });
}

}  // namespace tune::cli
