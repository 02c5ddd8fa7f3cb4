// `tune debug logits` and `tune debug generate`: run a Hugging Face checkpoint (plus an
// optional PEFT adapter) on given token ids, the way anyone checks tune against transformers.
#include <ATen/ATen.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/config_flags.h"
#include "core/status.h"
#include "inference/engine.h"
#include "model/generate.h"
#include "model/model_options.h"
#include "model/tensor_io.h"
#include "model/torch_status.h"

namespace tune::cli {
namespace {

struct ModelFlags {
  ConfigFlags config;
  std::string model_dir;
  std::string adapter_dir;
  bool merge = false;
  std::string dtype;
  std::string ids;
};

void AddModelFlags(CLI::App* cmd, ModelFlags& f) {
  AddConfigFlags(cmd, f.config);
  cmd->add_option("--model", f.model_dir,
                  "Hugging Face model directory (overrides model.base); `generate` also takes a "
                  ".gguf, run by the bundled llama.cpp runner");
  cmd->add_option("--adapter", f.adapter_dir,
                  "PEFT LoRA adapter directory to apply (a GGUF LoRA file with a .gguf --model)");
  cmd->add_flag("--merge", f.merge, "merge the adapter into the weights instead of running it beside them");
  cmd->add_option("--dtype", f.dtype, "compute dtype: float32 (default), bfloat16, float16 (overrides model.dtype)");
  cmd->add_option("--ids", f.ids, "comma-separated input token ids, e.g. 1,2,3")->required();
}

absl::StatusOr<std::vector<int32_t>> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int32_t id = 0;
    if (!absl::SimpleAtoi(part, &id) || id < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--ids: \"%s\" is not a token id (want e.g. 1,2,3)", std::string(part)));
    }
    ids.push_back(id);
  }
  if (ids.empty()) return absl::InvalidArgumentError("--ids: no token ids given");
  return ids;
}

absl::StatusOr<model::Transformer> LoadFromFlags(const ModelFlags& f) {
  TUNE_ASSIGN_OR_RETURN(std::optional<core::Config> config, LoadConfigFlags(f.config));
  model::ModelOptions options;
  if (config) {
    TUNE_ASSIGN_OR_RETURN(options, model::ParseModelOptions(*config));
  }
  if (!f.model_dir.empty()) options.base = f.model_dir;
  if (!f.dtype.empty()) {
    TUNE_ASSIGN_OR_RETURN(options.dtype, model::ParseDType(f.dtype));
  }
  std::optional<std::filesystem::path> adapter;
  if (!f.adapter_dir.empty()) adapter = f.adapter_dir;
  return model::LoadModel(options, adapter, f.merge ? model::LoraMode::kMerged : model::LoraMode::kUnmerged);
}

// Token ids must index the embedding; checked here so the error names the flag.
absl::Status CheckIds(const std::vector<int32_t>& ids, const model::Transformer& m) {
  for (int32_t id : ids) {
    if (id >= m.config().vocab_size) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--ids: token %d is outside the model's vocabulary of %d", id, m.config().vocab_size));
    }
  }
  return absl::OkStatus();
}

at::Tensor IdsTensor(const std::vector<int32_t>& ids) {
  return at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).unsqueeze(0);
}

absl::Status RunLogits(const ModelFlags& f, const std::string& out) {
  TUNE_ASSIGN_OR_RETURN(std::vector<int32_t> ids, ParseIds(f.ids));
  TUNE_ASSIGN_OR_RETURN(model::Transformer m, LoadFromFlags(f));
  TUNE_RETURN_IF_ERROR(CheckIds(ids, m));
  TUNE_ASSIGN_OR_RETURN(at::Tensor logits, model::CallTorch("forward", [&] {
                          c10::InferenceMode no_autograd;
                          return m.Forward(IdsTensor(ids))[0].contiguous();  // (T, vocab) f32
                        }));
  return model::WriteSafetensors(out, {{"logits", logits}});
}

// A .gguf --model runs through the bundled runner (llama.cpp), with --adapter as a GGUF LoRA.
absl::StatusOr<std::vector<int32_t>> GenerateWithRunner(const ModelFlags& f, std::vector<int32_t> ids,
                                                        int64_t max_new, bool stop_at_eos) {
  inference::EngineOptions options;
  options.model.path = f.model_dir;
  options.n_threads = 1;
  options.n_ctx = static_cast<int32_t>(std::max<int64_t>(64, static_cast<int64_t>(ids.size()) + max_new + 1));
  if (!f.adapter_dir.empty()) options.loras.push_back({f.adapter_dir, 1.0f});
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<inference::Engine> engine, inference::Engine::Start(options));
  inference::CompletionRequest r;
  r.kind = inference::PromptKind::kTokens;
  r.prompt_tokens = std::move(ids);
  r.n_predict = static_cast<int32_t>(max_new);
  r.ignore_eos = !stop_at_eos;
  r.return_tokens = true;
  r.sampling.temperature = 0;
  TUNE_ASSIGN_OR_RETURN(std::vector<inference::CompletionResult> out, engine->Run(std::move(r)));
  std::vector<int32_t> tokens = out.front().tokens;
  return tokens;
}

absl::Status RunGenerate(const ModelFlags& f, int64_t max_new, bool stop_at_eos) {
  TUNE_ASSIGN_OR_RETURN(std::vector<int32_t> ids, ParseIds(f.ids));
  if (f.model_dir.ends_with(".gguf")) {
    TUNE_ASSIGN_OR_RETURN(std::vector<int32_t> out, GenerateWithRunner(f, ids, max_new, stop_at_eos));
    std::printf("[%s]\n", absl::StrJoin(out, ",").c_str());
    return absl::OkStatus();
  }
  TUNE_ASSIGN_OR_RETURN(model::Transformer m, LoadFromFlags(f));
  TUNE_RETURN_IF_ERROR(CheckIds(ids, m));
  model::GreedyOptions options;
  options.max_new_tokens = max_new;
  if (stop_at_eos) options.stop_token = m.config().eos_token_id;
  TUNE_ASSIGN_OR_RETURN(std::vector<int32_t> out, model::CallTorch("generate", [&] {
                          return model::GreedyGenerate(m, ids, options);
                        }));
  std::printf("[%s]\n", absl::StrJoin(out, ",").c_str());
  return absl::OkStatus();
}

}  // namespace

void RegisterDebugModelCommands(CLI::App& debug, absl::Status& result) {
  auto logits_flags = std::make_shared<ModelFlags>();
  auto out = std::make_shared<std::string>();
  CLI::App* logits = debug.add_subcommand(
      "logits", "write the logits of --ids as tensor `logits` [T, vocab] f32 to a .safetensors file");
  AddModelFlags(logits, *logits_flags);
  logits->add_option("--out", *out, "output .safetensors file (written atomically)")->required();
  logits->callback([logits_flags, out, &result] { result = RunLogits(*logits_flags, *out); });

  auto gen_flags = std::make_shared<ModelFlags>();
  auto max_new = std::make_shared<int64_t>(16);
  auto stop_at_eos = std::make_shared<bool>(false);
  CLI::App* generate = debug.add_subcommand(
      "generate", "greedy-decode after --ids with a KV cache; print the new token ids as a JSON array");
  AddModelFlags(generate, *gen_flags);
  generate->add_option("--max-new", *max_new, "number of tokens to generate (default 16)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  generate->add_flag("--stop-at-eos", *stop_at_eos, "stop after the model's eos_token_id");
  generate->callback([gen_flags, max_new, stop_at_eos, &result] {
    result = RunGenerate(*gen_flags, *max_new, *stop_at_eos);
  });
}

}  // namespace tune::cli
