#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "model/tiny_base.h"
#include "train/pretrain.h"

namespace tune::cli {
namespace {

struct TinyBaseFlags {
  std::string fixture = "../shared/fixtures/hf-reference/tiny-llama";
  std::string tokenizer = "configs/tokenizer/tiny-fim.model";
  std::string out;
  float norm_scale = model::kTinyBaseNormScale;
};

// `tune debug tiny-base`: the embedded default's base model (model/tiny_base.h).
void RegisterTinyBaseCommand(CLI::App& debug, absl::Status& result) {
  auto f = std::make_shared<TinyBaseFlags>();
  CLI::App* cmd = debug.add_subcommand(
      "tiny-base", "write the embedded default's base: the tiny llama fixture with its final norm "
                   "scaled so LoRA can move its logits, and tune's tiny FIM tokenizer");
  cmd->add_option("--out", f->out, "output model directory")->required();
  cmd->add_option("--fixture", f->fixture, "the tiny llama fixture directory")->capture_default_str();
  cmd->add_option("--tokenizer", f->tokenizer, "tokenizer.model to ship with it")->capture_default_str();
  cmd->add_option("--norm-scale", f->norm_scale, "factor on model.norm.weight")->capture_default_str();
  cmd->callback([f, &result] { result = model::WriteTinyBase(f->fixture, f->tokenizer, f->out, f->norm_scale); });
}

struct PretrainFlags {
  train::PretrainOptions options;
  std::string base, data, out;
  bool quiet = false;
};

// `tune debug pretrain`: every weight of a small model trained on a dataset (train/pretrain.h).
void RegisterPretrainCommand(CLI::App& debug, absl::Status& result) {
  auto f = std::make_shared<PretrainFlags>();
  train::PretrainOptions& o = f->options;
  CLI::App* cmd = debug.add_subcommand(
      "pretrain", "train every weight of a small model (the tiny base) on a dataset, f32 on the CPU; "
                  "writes a Hugging Face directory");
  cmd->add_option("--base", f->base, "Hugging Face directory to start from")->required();
  cmd->add_option("--data", f->data, "dataset from `tune ingest`")->required();
  cmd->add_option("--out", f->out, "output model directory")->required();
  cmd->add_option("--steps", o.steps, "optimizer steps")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", o.batch_size, "packed sequences per step")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--seq-len", o.seq_len, "tokens per sequence")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--lr", o.lr, "peak learning rate (warm-up, then cosine to a tenth)")->capture_default_str();
  cmd->add_option("--threads", o.threads, "CPU threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--quiet", f->quiet, "no progress output");
  cmd->callback([f, &result] {
    f->options.base = f->base;
    f->options.data = f->data;
    f->options.out = f->out;
    f->options.progress = !f->quiet;
    absl::StatusOr<train::PretrainReport> r = train::Pretrain(f->options);
    if (!r.ok()) {
      result = r.status();
      return;
    }
    std::printf("pretrained %lld steps on %lld tokens in %.0f s; loss %.4f -> %.4f, held-out loss %.4f -> %.4f; model in %s\n",
                static_cast<long long>(r->steps), static_cast<long long>(r->tokens), r->seconds, r->first_loss,
                r->last_loss, r->held_out_before, r->held_out_after, f->out.c_str());
  });
}

}  // namespace

void RegisterDebugCommand(CLI::App& app, absl::Status& result) {
  CLI::App* debug = app.add_subcommand(
      "debug", "inspection tools: run a model on token ids, tokenize text, print dataset shards, "
               "write the tiny base model");
  debug->require_subcommand(1);
  RegisterDebugModelCommands(*debug, result);
  RegisterDebugTokenizeCommand(*debug, result);
  RegisterDebugShardsCommand(*debug, result);
  RegisterTinyBaseCommand(*debug, result);
  RegisterPretrainCommand(*debug, result);
}

}  // namespace tune::cli
