#include "eval/completer.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/status.h"
#include "data/dataset.h"
#include "gguf/gguf_reader.h"
#include "inference/engine.h"
#include "inference/fim_prompt.h"
#include "inference/stop_rules.h"
#include "inference/vocab.h"
#include "model/generate.h"
#include "model/model_options.h"
#include "model/torch_status.h"
#include "train/batcher.h"
#include "train/heldout_loss.h"

namespace tune::eval {
namespace {

constexpr int32_t kMaxContext = 4096;
constexpr int64_t kLossBatch = 4;
constexpr int64_t kLossChunk = 1024;

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int32_t EvalContext(int64_t n_ctx_train) {
  return static_cast<int32_t>(std::clamp<int64_t>(n_ctx_train, 64, kMaxContext));
}

// ---- GGUF: the serving engine ----

class GgufCompleter final : public Completer {
 public:
  explicit GgufCompleter(std::unique_ptr<inference::Engine> engine) : engine_(std::move(engine)) {}

  absl::StatusOr<Completion> Complete(const inference::CompletionRequest& request) override {
    const Clock::time_point start = Clock::now();
    TUNE_ASSIGN_OR_RETURN(std::vector<inference::CompletionResult> results, engine_->Run(request));
    Completion c;
    c.latency_ms = MsSince(start);
    c.text = std::move(results.front().content);
    c.prompt_tokens = results.front().tokens_evaluated;
    c.generated_tokens = results.front().tokens_predicted;
    return c;
  }
  std::vector<int32_t> Tokenize(std::string_view text) const override {
    return engine_->Tokenize(std::string(text), false, false);
  }
  int32_t vocab_size() const override { return engine_->Info().n_vocab; }
  bool has_fim() const override { return engine_->Info().infill; }
  std::string description() const override {
    const inference::ModelInfo info = engine_->Info();
    std::vector<std::string> loras;
    for (const inference::LoraInfo& l : engine_->Loras()) loras.push_back(l.path);
    return absl::StrFormat("%s (%s%s%s)", info.path, info.description, loras.empty() ? "" : " + LoRA ",
                           absl::StrJoin(loras, ", "));
  }
  absl::StatusOr<double> HeldOutLoss(const std::filesystem::path&, int64_t, int64_t) const override {
    return absl::UnimplementedError("held-out loss needs the LibTorch model (a Hugging Face directory)");
  }

 private:
  std::unique_ptr<inference::Engine> engine_;
};

absl::StatusOr<std::unique_ptr<Completer>> OpenGguf(const ModelSpec& spec, const std::string& repo_name,
                                                    int32_t threads) {
  inference::EngineOptions options;
  options.model.path = spec.path;
  for (const std::filesystem::path& a : spec.adapters) options.loras.push_back({a, 1.0f});
  options.n_threads = threads;
  options.n_cache_reuse = 0;
  options.repo_name = repo_name;
  // Size the context to the model's training context, read with tune's GGUF reader (which also
  // rejects a malformed file before llama.cpp sees it).
  TUNE_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::Open(spec.path));
  TUNE_ASSIGN_OR_RETURN(std::string arch, file.Get<std::string>("general.architecture"));
  TUNE_ASSIGN_OR_RETURN(uint32_t n_ctx_train, file.Get<uint32_t>(arch + ".context_length"));
  options.n_ctx = EvalContext(n_ctx_train);
  options.n_batch = options.n_ctx / 2;
  options.n_ubatch = options.n_batch;
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<inference::Engine> engine, inference::Engine::Start(options));
  return std::unique_ptr<Completer>(new GgufCompleter(std::move(engine)));
}

// ---- Hugging Face directory: the LibTorch model ----

// The dataset tokenizer seen through the prompt builder's interface, with llama.cpp's
// end-of-generation set (EOS, EOT and the FIM pad / repo / file-separator tokens).
class TokenizerVocab final : public inference::Vocab {
 public:
  explicit TokenizerVocab(std::unique_ptr<tokenizer::Tokenizer> t) : t_(std::move(t)) {}
  std::vector<int32_t> Tokenize(std::string_view text, bool parse_special) const override {
    return t_->Encode(text, parse_special);
  }
  std::string Piece(int32_t id) const override { return t_->TokenBytes(id); }
  int32_t size() const override { return t_->vocab_size(); }
  inference::FimTokenIds fim() const override {
    const tokenizer::FimTokens& f = t_->fim();
    inference::FimTokenIds ids;
    ids.prefix = f.prefix;
    ids.suffix = f.suffix;
    ids.middle = f.middle;
    ids.pad = f.pad;
    ids.repo_name = f.repo_name;
    ids.file_sep = f.file_sep;
    return ids;
  }
  std::optional<int32_t> bos_to_add() const override {
    return t_->add_bos() ? t_->bos_id() : std::nullopt;
  }
  bool IsEndOfGeneration(int32_t id) const override {
    const tokenizer::FimTokens& f = t_->fim();
    for (const std::optional<int32_t>& eog : {t_->eos_id(), f.eot, f.pad, f.repo_name, f.file_sep}) {
      if (eog && *eog == id) return true;
    }
    return false;
  }

 private:
  std::unique_ptr<tokenizer::Tokenizer> t_;
};

class TorchCompleter final : public Completer {
 public:
  TorchCompleter(model::Transformer model, std::unique_ptr<tokenizer::Tokenizer> tokenizer,
                 std::string repo_name, std::string description)
      : model_(std::move(model)), vocab_(std::move(tokenizer)), description_(std::move(description)) {
    layout_.repo_name = std::move(repo_name);
    n_ctx_ = EvalContext(model_.config().max_position_embeddings);
  }

  absl::StatusOr<Completion> Complete(const inference::CompletionRequest& request) override {
    const Clock::time_point start = Clock::now();
    inference::FimLayout layout = layout_;
    layout.spm = request.spm_infill.value_or(false);
    const inference::FimBudget budget{n_ctx_ / 2, n_ctx_, request.n_predict};
    TUNE_ASSIGN_OR_RETURN(inference::FimPrompt prompt, inference::BuildFimPrompt(vocab_, layout, budget, request));
    // As the engine: a prompt longer than the slot leaves room for keeps its end.
    const size_t max_prompt = static_cast<size_t>(inference::MaxPromptTokens(n_ctx_, request.n_predict));
    if (prompt.tokens.size() > max_prompt) {
      prompt.tokens.erase(prompt.tokens.begin(), prompt.tokens.end() - static_cast<ptrdiff_t>(max_prompt));
    }
    inference::StopScanner stop(request);
    int32_t generated = 0;
    model::GreedyOptions options;
    options.max_new_tokens = request.n_predict;
    options.stop_after = [&](int32_t id) {
      ++generated;
      const bool eog = !request.ignore_eos && vocab_.IsEndOfGeneration(id);
      return stop.Step(eog, eog ? std::string() : vocab_.Piece(id),
                       generated >= request.n_predict || static_cast<int32_t>(prompt.tokens.size()) + generated >= n_ctx_,
                       MsSince(start));
    };
    TUNE_RETURN_IF_ERROR(model::CallTorch("generate", [&] {
      model::GreedyGenerate(model_, prompt.tokens, options);
    }));
    Completion c;
    c.text = stop.text();
    c.latency_ms = MsSince(start);
    c.prompt_tokens = static_cast<int32_t>(prompt.tokens.size());
    c.generated_tokens = generated;
    return c;
  }
  std::vector<int32_t> Tokenize(std::string_view text) const override { return vocab_.Tokenize(text, false); }
  int32_t vocab_size() const override {
    return static_cast<int32_t>(model_.config().vocab_size);
  }
  bool has_fim() const override { return vocab_.fim().available(); }
  std::string description() const override { return description_; }

  absl::StatusOr<double> HeldOutLoss(const std::filesystem::path& dataset, int64_t seq_len,
                                     int64_t max_batches) const override {
    TUNE_ASSIGN_OR_RETURN(data::DatasetManifest manifest, data::ReadManifest(dataset));
    const int64_t window = std::min<int64_t>(seq_len, n_ctx_);
    const int64_t batches = std::min<int64_t>(
        max_batches, std::max<int64_t>(1, static_cast<int64_t>(manifest.eval_tokens) / (kLossBatch * window)));
    TUNE_ASSIGN_OR_RETURN(train::Batcher eval,
                          train::Batcher::Open(dataset, "eval", kLossBatch, window, 0, /*shuffle=*/false));
    double loss = 0;
    TUNE_RETURN_IF_ERROR(model::CallTorch("held-out loss", [&] {
      loss = train::MeanHeldOutLoss(model_, eval, batches, kLossChunk);
    }));
    return loss;
  }

 private:
  model::Transformer model_;
  TokenizerVocab vocab_;
  inference::FimLayout layout_;
  int32_t n_ctx_ = 0;
  std::string description_;
};

absl::StatusOr<std::unique_ptr<Completer>> OpenTorch(const ModelSpec& spec, const std::string& repo_name,
                                                     int32_t threads) {
  if (spec.adapters.size() > 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: a Hugging Face model takes one PEFT adapter directory, got %d", spec.path.string(),
        spec.adapters.size()));
  }
  model::ModelOptions options;
  options.base = spec.path;
  options.threads = threads;
  std::optional<std::filesystem::path> adapter;
  if (!spec.adapters.empty()) adapter = spec.adapters.front();
  TUNE_ASSIGN_OR_RETURN(model::Transformer model, model::LoadModel(options, adapter, model::LoraMode::kMerged));
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tokenizer, tokenizer::Tokenizer::Load(spec.path));
  std::string description = spec.path.string() + " (LibTorch f32";
  if (adapter) description += " + PEFT " + adapter->string();
  description += ")";
  return std::unique_ptr<Completer>(
      new TorchCompleter(std::move(model), std::move(tokenizer), repo_name, std::move(description)));
}

}  // namespace

std::string_view FimOrderName(FimOrder order) { return order == FimOrder::kPsm ? "psm" : "spm"; }

bool ModelSpec::is_gguf() const { return path.extension() == ".gguf"; }

inference::CompletionRequest TaskRequest(const Benchmark& benchmark, const Task& task, FimOrder order) {
  const data::HeldOutFile& file = benchmark.files[static_cast<size_t>(task.file)];
  inference::CompletionRequest r;
  r.kind = inference::PromptKind::kInfill;
  r.input_prefix = std::string(benchmark.prefix(task));
  r.input_suffix = std::string(benchmark.suffix(task));
  for (const data::ContextFile& c : file.context) r.input_extra.push_back({c.path, c.text});
  r.filename = file.path;
  r.spm_infill = order == FimOrder::kSpm;
  r.n_predict = task.max_tokens;
  r.single_line = task.kind == TaskKind::kLine;
  r.cache_prompt = false;
  r.sampling.temperature = 0;
  return r;
}

absl::StatusOr<std::unique_ptr<Completer>> OpenCompleter(const ModelSpec& spec, const std::string& repo_name,
                                                         int32_t threads) {
  absl::StatusOr<std::unique_ptr<Completer>> c =
      spec.is_gguf() ? OpenGguf(spec, repo_name, threads) : OpenTorch(spec, repo_name, threads);
  if (!c.ok()) return core::Annotate(c.status(), "--" + spec.label);
  return c;
}

absl::Status CheckCompatible(const Completer& completer, const ModelSpec& spec,
                             const tokenizer::Tokenizer& dataset_tokenizer) {
  const std::string model = absl::StrFormat("--%s %s", spec.label, spec.path.string());
  if (!completer.has_fim()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: its vocabulary has no FIM prefix/suffix/middle tokens, so it cannot fill in the "
        "middle; hint: evaluate a code model trained with FIM (Qwen2.5-Coder, StarCoder2, "
        "DeepSeek-Coder, CodeLlama)", model));
  }
  // Ids of a probe with code, indentation, digits and multi-byte text must agree: the benchmark's
  // max_tokens and the dataset's shards were made with the dataset's tokenizer.
  constexpr std::string_view kProbe =
      "def parse(x):\n    return {'k': x[0] + 42}  # ünïcode 漢字\n\tint main(void) { return 0; }\n";
  const std::vector<int32_t> expected = dataset_tokenizer.Encode(kProbe);
  if (completer.vocab_size() != dataset_tokenizer.vocab_size() || completer.Tokenize(kProbe) != expected) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: its vocabulary (%d tokens) is not the dataset's tokenizer's (%d tokens, fingerprint "
        "%s): the model and the dataset were made for different base models; hint: evaluate the "
        "base the dataset was ingested for, or re-run `tune ingest --tokenizer` with this model",
        model, completer.vocab_size(), dataset_tokenizer.vocab_size(), dataset_tokenizer.Fingerprint()));
  }
  return absl::OkStatus();
}

}  // namespace tune::eval
