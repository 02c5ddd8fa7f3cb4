// `tune train`: fine-tune LoRA adapters on a dataset from `tune ingest`.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/config_flags.h"
#include "core/status.h"
#include "model/model_options.h"
#include "train/data_parallel.h"
#include "train/trainer.h"
#include "train/train_options.h"

namespace tune::cli {
namespace {

struct TrainFlags {
  ConfigFlags config;
  std::string data;
  std::string out;
  std::string base;
  bool resume = false;
  std::string init_adapter;
  int nproc = 1;
  std::vector<std::string> argv;  // the command line, for --nproc to re-run
};

absl::Status RunTrain(const TrainFlags& f) {
  if (f.nproc > 1) {
    // Re-run this very command once per process, without --nproc (ranks come from the env).
    std::vector<std::string> argv;
    for (size_t i = 0; i < f.argv.size(); ++i) {
      if (f.argv[i] == "--nproc") {
        ++i;
        continue;
      }
      if (f.argv[i].rfind("--nproc=", 0) == 0) continue;
      argv.push_back(f.argv[i]);
    }
    return train::LaunchLocalProcesses(argv, f.nproc);
  }
  TUNE_ASSIGN_OR_RETURN(std::optional<core::Config> config, LoadConfigFlags(f.config));
  train::TrainRequest request;
  if (config) {
    TUNE_ASSIGN_OR_RETURN(request.model, model::ParseModelOptions(*config));
    TUNE_ASSIGN_OR_RETURN(request.lora, model::ParseLoraOptions(*config));
    TUNE_ASSIGN_OR_RETURN(request.train, train::ParseTrainOptions(*config));
  }
  if (!f.base.empty()) request.model.base = f.base;
  request.data = f.data;
  request.out = f.out;
  request.resume = f.resume;
  request.init_adapter = f.init_adapter;
  TUNE_ASSIGN_OR_RETURN(train::TrainReport report, train::RunTraining(request));
  std::string eval;
  if (report.final_eval_loss) {
    eval = report.initial_eval_loss
               ? absl::StrFormat(", held-out loss %.4f -> %.4f", *report.initial_eval_loss, *report.final_eval_loss)
               : absl::StrFormat(", held-out loss %.4f", *report.final_eval_loss);
  }
  std::fprintf(stderr, "trained %lld steps on %lld tokens; final loss %.4f%s; adapter in %s\n",
               static_cast<long long>(report.steps), static_cast<long long>(report.tokens),
               report.final_loss, eval.c_str(), f.out.c_str());
  return absl::OkStatus();
}

}  // namespace

void RegisterTrainCommand(CLI::App& app, int argc, char** argv, absl::Status& result) {
  auto f = std::make_shared<TrainFlags>();
  f->argv.assign(argv, argv + argc);
  CLI::App* cmd = app.add_subcommand("train", "fine-tune LoRA/QLoRA adapters on a dataset from `tune ingest`");
  AddConfigFlags(cmd, f->config);
  cmd->add_option("--data", f->data, "dataset directory written by `tune ingest`")->required();
  cmd->add_option("--out", f->out, "output directory: PEFT adapter, metrics.jsonl, run.json, checkpoints/")->required();
  cmd->add_option("--base", f->base, "Hugging Face model directory (overrides model.base)");
  cmd->add_flag("--resume", f->resume, "continue from the latest checkpoint in --out");
  cmd->add_option("--init-adapter", f->init_adapter,
                  "start from this PEFT adapter (an earlier run's --out) instead of fresh adapters; "
                  "it must have this run's lora.rank, lora.alpha and lora.targets");
  cmd->add_option("--nproc", f->nproc, "data-parallel processes on this machine (Gloo on the CPU, NCCL on CUDA)")
      ->check(CLI::Range(1, 64));
  cmd->callback([f, &result] { result = RunTrain(*f); });
}

}  // namespace tune::cli
