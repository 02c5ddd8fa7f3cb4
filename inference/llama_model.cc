#include "inference/llama_model.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "gguf/gguf_reader.h"
#include "llama.h"

namespace tune::inference {
namespace {

void LogToStderr(ggml_log_level level, const char* text, void* /*user*/) {
  static const bool debug = [] {
    const char* v = std::getenv("TUNE_LLAMA_LOG");
    return v != nullptr && std::string_view(v) == "debug";
  }();
  // CONT lines continue the previous message at its level; without debug only errors remain.
  if (!debug && level != GGML_LOG_LEVEL_ERROR) return;
  std::fprintf(stderr, "llama.cpp: %s", text);
}

std::optional<int32_t> TokenOrNull(llama_token t) {
  return t == LLAMA_TOKEN_NULL ? std::nullopt : std::optional<int32_t>(t);
}

}  // namespace

void InitLlamaBackend() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(LogToStderr, nullptr);
    llama_backend_init();
  });
}

std::string LlamaCppVersion() { return TUNE_LLAMA_COMMIT; }

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Load(const ModelLoadOptions& options) {
  InitLlamaBackend();
  // tune's own reader validates the container first (offsets, sizes, types), so a damaged file
  // is reported by name and field instead of reaching llama.cpp's asserts.
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(options.path);
  if (!file.ok()) {
    return core::Annotate(file.status(), "loading the model for serving");
  }
  llama_model_params params = llama_model_default_params();
  params.n_gpu_layers = options.n_gpu_layers;
  params.vocab_only = options.vocab_only;
  llama_model* model = llama_model_load_from_file(options.path.c_str(), params);
  if (model == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: llama.cpp could not load this GGUF (unsupported architecture or tensor layout; "
        "run with TUNE_LLAMA_LOG=debug for its reason); hint: re-export it with `tune export`",
        options.path.string()));
  }
  return std::unique_ptr<LlamaModel>(new LlamaModel(model, options.path));
}

LlamaModel::LlamaModel(llama_model* model, std::filesystem::path path)
    : model_(model), vocab_(llama_model_get_vocab(model)), path_(std::move(path)) {
  fim_.prefix = TokenOrNull(llama_vocab_fim_pre(vocab_));
  fim_.suffix = TokenOrNull(llama_vocab_fim_suf(vocab_));
  fim_.middle = TokenOrNull(llama_vocab_fim_mid(vocab_));
  fim_.pad = TokenOrNull(llama_vocab_fim_pad(vocab_));
  fim_.repo_name = TokenOrNull(llama_vocab_fim_rep(vocab_));
  fim_.file_sep = TokenOrNull(llama_vocab_fim_sep(vocab_));
}

LlamaModel::~LlamaModel() {
  for (llama_adapter_lora* a : adapters_) llama_adapter_lora_free(a);
  llama_model_free(model_);
}

absl::StatusOr<LoraAdapter> LlamaModel::LoadLora(const std::filesystem::path& path, float scale) {
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(path);
  if (!file.ok()) return core::Annotate(file.status(), "loading a LoRA adapter");
  llama_adapter_lora* handle = llama_adapter_lora_init(model_, path.c_str());
  if (handle == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: llama.cpp refused this LoRA adapter for %s (made for another base model, or not a "
        "GGUF LoRA); hint: export it with `tune export --base <the served base> --adapter-only`",
        path.string(), path_.filename().string()));
  }
  adapters_.push_back(handle);
  return LoraAdapter{path, scale, handle};
}

std::vector<int32_t> LlamaModel::Tokenize(std::string_view text, bool parse_special) const {
  std::vector<int32_t> ids(text.size() + 2);
  int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                             static_cast<int32_t>(ids.size()), /*add_special=*/false, parse_special);
  if (n < 0) {  // more tokens than bytes + 2 (cannot happen for byte-level vocabularies)
    ids.resize(static_cast<size_t>(-n));
    n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                       static_cast<int32_t>(ids.size()), false, parse_special);
  }
  ids.resize(static_cast<size_t>(std::max(n, 0)));
  return ids;
}

std::string LlamaModel::Piece(int32_t id) const {
  char buf[128];
  int32_t n = llama_token_to_piece(vocab_, id, buf, sizeof(buf), 0, /*special=*/true);
  if (n >= 0) return std::string(buf, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(-n), '\0');
  n = llama_token_to_piece(vocab_, id, big.data(), static_cast<int32_t>(big.size()), 0, true);
  big.resize(static_cast<size_t>(std::max(n, 0)));
  return big;
}

std::string LlamaModel::Detokenize(const std::vector<int32_t>& ids) const {
  std::string text;
  for (int32_t id : ids) text += Piece(id);
  return text;
}

int32_t LlamaModel::size() const { return llama_vocab_n_tokens(vocab_); }

std::optional<int32_t> LlamaModel::bos_to_add() const {
  if (!llama_vocab_get_add_bos(vocab_)) return std::nullopt;
  return TokenOrNull(llama_vocab_bos(vocab_));
}

bool LlamaModel::IsEndOfGeneration(int32_t id) const { return llama_vocab_is_eog(vocab_, id); }

std::optional<std::string> LlamaModel::Metadata(const std::string& key) const {
  int32_t n = llama_model_meta_val_str(model_, key.c_str(), nullptr, 0);
  if (n < 0) return std::nullopt;
  std::string value(static_cast<size_t>(n) + 1, '\0');
  llama_model_meta_val_str(model_, key.c_str(), value.data(), value.size());
  value.resize(static_cast<size_t>(n));
  return value;
}

int32_t LlamaModel::n_ctx_train() const { return llama_model_n_ctx_train(model_); }
int64_t LlamaModel::n_params() const { return static_cast<int64_t>(llama_model_n_params(model_)); }
uint64_t LlamaModel::size_bytes() const { return llama_model_size(model_); }

std::string LlamaModel::Description() const {
  char buf[256];
  int32_t n = llama_model_desc(model_, buf, sizeof(buf));
  return std::string(buf, static_cast<size_t>(std::max(0, std::min<int32_t>(n, sizeof(buf) - 1))));
}

}  // namespace tune::inference
