#include <memory>
#include <string>

#include "cli/commands.h"
#include "model/tiny_base.h"

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
}

}  // namespace tune::cli
