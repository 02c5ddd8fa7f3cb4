// A GGUF model loaded by llama.cpp's libllama (public C API only), its vocabulary, and the GGUF
// LoRA adapters applied to it at run time. Loading validates what llama.cpp would otherwise
// assert on, so a bad file is an error naming the file, not a crash.
//
// Thread safety: the vocabulary calls are const and safe from any thread (llama.cpp's server
// tokenizes in its HTTP threads too); contexts are made per user (inference/engine.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "inference/vocab.h"

struct llama_model;
struct llama_vocab;
struct llama_adapter_lora;

namespace tune::inference {

struct ModelLoadOptions {
  std::filesystem::path path;
  int32_t n_gpu_layers = -1;  // layers offloaded to a GPU (-1: all); CPU builds ignore it
  bool vocab_only = false;   // tokenizer only (tokenize without loading weights)
};

// A GGUF LoRA adapter (`tune export --adapter-only`, convert_lora_to_gguf.py) for this model.
struct LoraAdapter {
  std::filesystem::path path;
  float scale = 1.0f;  // the server-wide scale; requests may override it
  llama_adapter_lora* handle = nullptr;  // owned by the model (freed with it)
};

class LlamaModel final : public Vocab {
 public:
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Load(const ModelLoadOptions& options);
  ~LlamaModel() override;
  LlamaModel(const LlamaModel&) = delete;
  LlamaModel& operator=(const LlamaModel&) = delete;

  // Loads `path` as an adapter of this model; an adapter made for another base is an error.
  absl::StatusOr<LoraAdapter> LoadLora(const std::filesystem::path& path, float scale);

  // Vocab.
  std::vector<int32_t> Tokenize(std::string_view text, bool parse_special) const override;
  std::string Piece(int32_t id) const override;
  int32_t size() const override;
  FimTokenIds fim() const override { return fim_; }
  std::optional<int32_t> bos_to_add() const override;
  bool IsEndOfGeneration(int32_t id) const override;

  // Token ids -> text (special tokens by their spelling).
  std::string Detokenize(const std::vector<int32_t>& ids) const;
  // A GGUF metadata string (numbers are printed), or nullopt.
  std::optional<std::string> Metadata(const std::string& key) const;

  llama_model* get() const { return model_; }
  const llama_vocab* vocab() const { return vocab_; }
  const std::filesystem::path& path() const { return path_; }
  int32_t n_ctx_train() const;
  int64_t n_params() const;
  uint64_t size_bytes() const;
  std::string Description() const;  // "qwen2 1.5B Q8_0"

 private:
  LlamaModel(llama_model* model, std::filesystem::path path);
  llama_model* model_;
  const llama_vocab* vocab_;
  std::filesystem::path path_;
  FimTokenIds fim_;
  std::vector<llama_adapter_lora*> adapters_;
};

// llama.cpp's log lines go to stderr only at warning level and above, prefixed "llama.cpp: ";
// TUNE_LLAMA_LOG=debug shows everything. Called once by Load; idempotent.
void InitLlamaBackend();

// "b<build>-<commit>" of the linked llama.cpp (for `tune doctor`, /props and --version).
std::string LlamaCppVersion();

}  // namespace tune::inference
