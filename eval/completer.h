// The two ways `tune eval` runs a model, both answering the `/infill` request `tune serve` would
// get for a task, with the same prompt (inference/fim_prompt.h), the same budgets and the same
// stop rules (inference/stop_rules.h), greedy:
//   GGUF          the bundled llama.cpp runner (inference/engine.h), optionally with GGUF LoRA
//                 adapters: what `tune serve` will answer;
//   HF directory  the LibTorch model (model/transformer.h), optionally with a PEFT adapter: the
//                 training-side view, which also gives held-out loss.
// Context: n_ctx = min(the model's training context, 4096), one slot, n_batch = n_ctx / 2 (so a
// FIM prompt keeps up to 3/8 n_ctx of prefix, 1/8 of suffix), no prompt cache (every task is
// computed from scratch, so latencies compare and the two runners see identical inputs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/benchmark.h"
#include "inference/request.h"
#include "tokenizer/tokenizer.h"

namespace tune::eval {

enum class FimOrder : uint8_t { kPsm, kSpm };
std::string_view FimOrderName(FimOrder order);

// The `/infill` request for a task: the file's prefix and suffix, its repository context as
// input_extra, greedy, n_predict = max_tokens, line tasks single-line.
inference::CompletionRequest TaskRequest(const Benchmark& benchmark, const Task& task, FimOrder order);

struct Completion {
  std::string text;
  double latency_ms = 0;  // prompt + generation, wall clock
  int32_t prompt_tokens = 0;
  int32_t generated_tokens = 0;
};

struct ModelSpec {
  std::filesystem::path path;  // a .gguf file, or a Hugging Face model directory
  // GGUF LoRA adapter files (GGUF model) or one PEFT adapter directory (HF model).
  std::vector<std::filesystem::path> adapters;
  std::string label;  // "base", "tuned"
  bool is_gguf() const;
};

class Completer {
 public:
  virtual ~Completer() = default;
  virtual absl::StatusOr<Completion> Complete(const inference::CompletionRequest& request) = 0;
  virtual std::vector<int32_t> Tokenize(std::string_view text) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual bool has_fim() const = 0;
  virtual std::string description() const = 0;  // "tiny-Q8_0.gguf (llama 0.1M F32)"
  // Mean token loss on the dataset's held-out shards (eval split), in windows of seq_len tokens,
  // over at most max_batches batches of 4. Unimplemented for a GGUF model.
  virtual absl::StatusOr<double> HeldOutLoss(const std::filesystem::path& dataset, int64_t seq_len,
                                             int64_t max_batches) const = 0;
};

// Opens the model. `repo_name` goes into FIM repo context (the benchmark's). threads 0 = all.
absl::StatusOr<std::unique_ptr<Completer>> OpenCompleter(const ModelSpec& spec, const std::string& repo_name,
                                                         int32_t threads);

// FailedPrecondition, naming the model, when it cannot be compared on the dataset: no FIM tokens,
// or a vocabulary other than the dataset's tokenizer (size, or ids of a probe text).
absl::Status CheckCompatible(const Completer& completer, const ModelSpec& spec,
                             const tokenizer::Tokenizer& dataset_tokenizer);

}  // namespace tune::eval
