// `tune ingest --repo PATH [--rev REV] [--config F] --out DIR`: mine a git repository into a
// dataset directory of FIM token shards (data/ingest.h).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/config_flags.h"
#include "core/config.h"
#include "core/status.h"
#include "data/ingest.h"

namespace tune::cli {
namespace {

struct IngestFlags {
  std::string repo, rev, out, tokenizer;
  ConfigFlags config;
  int64_t threads = -1;
  bool full = false;
  bool quiet = false;
};

absl::Status RunIngestCommand(const IngestFlags& f) {
  data::IngestOptions options;
  // The whole config is validated (every section), then [ingest] is read.
  TUNE_ASSIGN_OR_RETURN(std::optional<core::Config> config, LoadConfigFlags(f.config));
  if (config) {
    TUNE_ASSIGN_OR_RETURN(options, data::ParseIngestOptions(*config));
  }
  // Flags win over the config file.
  options.repo = f.repo;
  options.out = f.out;
  if (!f.rev.empty()) options.rev = f.rev;
  if (!f.tokenizer.empty()) options.tokenizer = f.tokenizer;
  if (f.threads >= 0) options.threads = f.threads;
  if (f.full) options.incremental = false;
  options.progress = !f.quiet;
  TUNE_ASSIGN_OR_RETURN(data::IngestResult result, data::RunIngest(options));
  std::fputs(result.summary.c_str(), stdout);
  std::printf("dataset written to %s\n", result.dataset.c_str());
  return absl::OkStatus();
}

}  // namespace

void RegisterIngestCommand(CLI::App& app, absl::Status& result) {
  auto flags = std::make_shared<IngestFlags>();
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "mine a git repository into filtered, deduplicated, secret-redacted FIM token shards");
  cmd->add_option("--repo", flags->repo, "git repository (bare or with a work tree)")->required();
  cmd->add_option("--rev", flags->rev, "revision to mine (default: ingest.rev, else HEAD)");
  AddConfigFlags(cmd, flags->config);
  cmd->add_option("--out", flags->out,
                  "dataset directory (written atomically; an existing dataset there is updated "
                  "incrementally)")
      ->required();
  cmd->add_option(
      "--tokenizer", flags->tokenizer,
      "tokenizer.json, tokenizer.model or a model directory (default: ingest.tokenizer)");
  cmd->add_option("--threads", flags->threads,
                  "worker threads (default: ingest.threads, 0 = all cores)")
      ->check(CLI::Range(int64_t{0}, int64_t{1024}));
  cmd->add_flag("--full", flags->full,
                "ignore the previous dataset at --out and re-mine everything");
  cmd->add_flag("--quiet", flags->quiet, "no progress output");
  cmd->callback([flags, &result] { result = RunIngestCommand(*flags); });
}

}  // namespace tune::cli
