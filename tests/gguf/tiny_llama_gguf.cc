#include "tests/gguf/tiny_llama_gguf.h"

#include <cstring>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "formats/safetensors.h"
#include "gguf/gguf_writer.h"
#include "gguf/lora_adapter.h"
#include "gguf/quants.h"
#include "nlohmann/json.hpp"

namespace tune::testing {
namespace {

using gguf::GgmlType;
using gguf::GgufWriter;

struct Config {
  int n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim, n_ctx, n_vocab;
  float rope_theta, rms_eps;
};

absl::StatusOr<Config> ReadConfig(const std::filesystem::path& dir) {
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(dir / "config.json"));
  const nlohmann::json j = nlohmann::json::parse(text);
  Config c{};
  c.n_layer = j.at("num_hidden_layers");
  c.n_embd = j.at("hidden_size");
  c.n_ff = j.at("intermediate_size");
  c.n_head = j.at("num_attention_heads");
  c.n_head_kv = j.at("num_key_value_heads");
  c.head_dim = j.value("head_dim", c.n_embd / c.n_head);
  c.n_ctx = j.at("max_position_embeddings");
  c.n_vocab = j.at("vocab_size");
  c.rope_theta = j.contains("rope_parameters") ? j["rope_parameters"].at("rope_theta").get<float>()
                                                : j.value("rope_theta", 10000.0f);
  c.rms_eps = j.at("rms_norm_eps");
  return c;
}

// ---- SentencePiece model (protobuf), just the pieces --------------------------------------

struct Piece {
  std::string text;
  float score = 0;
  int32_t type = 1;  // sentencepiece NORMAL; the enum values equal llama.cpp's token types
};

class ProtoReader {
 public:
  explicit ProtoReader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return pos_ >= bytes_.size(); }
  absl::StatusOr<uint64_t> Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (done()) return absl::DataLossError("tokenizer.model: truncated varint");
      const uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return absl::DataLossError("tokenizer.model: varint too long");
  }
  absl::StatusOr<std::string_view> Bytes(uint64_t n) {
    if (n > bytes_.size() - pos_) return absl::DataLossError("tokenizer.model: field past end");
    std::string_view s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // Reads one field: its number, wire type, and (for length-delimited / fixed32) its bytes.
  absl::Status Field(uint32_t* number, uint32_t* wire, std::string_view* payload, uint64_t* v) {
    TUNE_ASSIGN_OR_RETURN(uint64_t key, Varint());
    *number = static_cast<uint32_t>(key >> 3);
    *wire = static_cast<uint32_t>(key & 7);
    switch (*wire) {
      case 0: {
        TUNE_ASSIGN_OR_RETURN(*v, Varint());
        return absl::OkStatus();
      }
      case 1: {
        TUNE_ASSIGN_OR_RETURN(*payload, Bytes(8));
        return absl::OkStatus();
      }
      case 2: {
        TUNE_ASSIGN_OR_RETURN(uint64_t n, Varint());
        TUNE_ASSIGN_OR_RETURN(*payload, Bytes(n));
        return absl::OkStatus();
      }
      case 5: {
        TUNE_ASSIGN_OR_RETURN(*payload, Bytes(4));
        return absl::OkStatus();
      }
      default:
        return absl::DataLossError(absl::StrFormat("tokenizer.model: wire type %d", *wire));
    }
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// ModelProto field 1 = repeated SentencePiece {1: piece, 2: score (float), 3: type (enum)}.
absl::StatusOr<std::vector<Piece>> ReadPieces(const std::filesystem::path& path) {
  TUNE_ASSIGN_OR_RETURN(std::string bytes, core::ReadFile(path));
  std::vector<Piece> pieces;
  ProtoReader model(bytes);
  while (!model.done()) {
    uint32_t number, wire;
    std::string_view payload;
    uint64_t v;
    TUNE_RETURN_IF_ERROR(model.Field(&number, &wire, &payload, &v));
    if (number != 1 || wire != 2) continue;
    Piece piece;
    ProtoReader fields(payload);
    while (!fields.done()) {
      TUNE_RETURN_IF_ERROR(fields.Field(&number, &wire, &payload, &v));
      if (number == 1 && wire == 2) piece.text = std::string(payload);
      if (number == 2 && wire == 5) std::memcpy(&piece.score, payload.data(), 4);
      if (number == 3 && wire == 0) piece.type = static_cast<int32_t>(v);
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

// ---- tensors -------------------------------------------------------------------------------

// convert_hf_to_gguf.py's LlamaModel.permute on rows: llama.cpp rotates adjacent pairs (RoPE
// NORM) where HF rotates halves, so each head's rows are interleaved.
std::vector<float> PermuteRows(std::span<const float> w, int64_t rows, int64_t cols,
                               int n_head) {
  std::vector<float> out(w.size());
  const int64_t hd = rows / n_head;
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t i = 0; i < hd / 2; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t dst = h * hd + 2 * i + j;
        const int64_t src = h * hd + j * hd / 2 + i;
        std::memcpy(&out[dst * cols], &w[src * cols], cols * sizeof(float));
      }
    }
  }
  return out;
}

std::span<const float> Floats(const formats::TensorView& t) {
  return {reinterpret_cast<const float*>(t.data), t.nbytes / sizeof(float)};
}

// HF module path (without ".weight") -> GGUF base name.
std::string GgufName(std::string hf) {
  static const std::map<std::string, std::string> kTop = {
      {"model.embed_tokens", "token_embd"}, {"lm_head", "output"}, {"model.norm", "output_norm"}};
  static const std::map<std::string, std::string> kBlock = {
      {"input_layernorm", "attn_norm"},   {"self_attn.q_proj", "attn_q"},
      {"self_attn.k_proj", "attn_k"},     {"self_attn.v_proj", "attn_v"},
      {"self_attn.o_proj", "attn_output"}, {"post_attention_layernorm", "ffn_norm"},
      {"mlp.gate_proj", "ffn_gate"},       {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"}};
  if (auto it = kTop.find(hf); it != kTop.end()) return it->second;
  int layer = -1;
  char rest[128] = {};
  if (std::sscanf(hf.c_str(), "model.layers.%d.%127s", &layer, rest) == 2) {
    if (auto it = kBlock.find(rest); it != kBlock.end()) {
      return absl::StrFormat("blk.%d.%s", layer, it->second);
    }
  }
  return "";
}

// Rows to permute for q/k (0: none), per GGUF base name.
int PermuteHeads(const std::string& name, const Config& c) {
  if (name.ends_with(".attn_q")) return c.n_head;
  if (name.ends_with(".attn_k")) return c.n_head_kv;
  return 0;
}

absl::Status SetModelMetadata(GgufWriter& w, const Config& c, gguf::FileType ftype,
                              const std::vector<Piece>& pieces) {
  const std::vector<std::pair<std::string, gguf::Value>> kvs = {
      {"general.architecture", std::string("llama")},
      {"general.type", std::string("model")},
      {"general.name", std::string("tiny-llama")},
      {"general.file_type", static_cast<uint32_t>(ftype)},
      {"general.quantization_version", uint32_t{2}},
      {"llama.block_count", static_cast<uint32_t>(c.n_layer)},
      {"llama.context_length", static_cast<uint32_t>(c.n_ctx)},
      {"llama.embedding_length", static_cast<uint32_t>(c.n_embd)},
      {"llama.feed_forward_length", static_cast<uint32_t>(c.n_ff)},
      {"llama.attention.head_count", static_cast<uint32_t>(c.n_head)},
      {"llama.attention.head_count_kv", static_cast<uint32_t>(c.n_head_kv)},
      {"llama.attention.key_length", static_cast<uint32_t>(c.head_dim)},
      {"llama.attention.value_length", static_cast<uint32_t>(c.head_dim)},
      {"llama.rope.dimension_count", static_cast<uint32_t>(c.head_dim)},
      {"llama.rope.freq_base", c.rope_theta},
      {"llama.attention.layer_norm_rms_epsilon", c.rms_eps},
      {"llama.vocab_size", static_cast<uint32_t>(c.n_vocab)},
      {"tokenizer.ggml.model", std::string("llama")},
      {"tokenizer.ggml.pre", std::string("default")},
      {"tokenizer.ggml.bos_token_id", uint32_t{1}},
      {"tokenizer.ggml.eos_token_id", uint32_t{2}},
      {"tokenizer.ggml.unknown_token_id", uint32_t{0}},
      {"tokenizer.ggml.add_bos_token", true},
      {"tokenizer.ggml.add_eos_token", false},
  };
  for (const auto& [key, value] : kvs) TUNE_RETURN_IF_ERROR(w.Set(key, value));
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const Piece& p : pieces) {
    tokens.push_back(p.text);
    scores.push_back(p.score);
    types.push_back(p.type);
  }
  TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.tokens", std::move(tokens)));
  TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.scores", std::move(scores)));
  return w.Set("tokenizer.ggml.token_type", std::move(types));
}

}  // namespace

absl::Status WriteTinyLlamaGguf(const std::filesystem::path& model_dir, gguf::FileType ftype,
                                const std::filesystem::path& out) {
  TUNE_ASSIGN_OR_RETURN(Config c, ReadConfig(model_dir));
  TUNE_ASSIGN_OR_RETURN(std::vector<Piece> pieces, ReadPieces(model_dir / "tokenizer.model"));
  if (static_cast<int>(pieces.size()) != c.n_vocab) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "tokenizer.model has %d pieces, config vocab_size is %d", pieces.size(), c.n_vocab));
  }
  TUNE_ASSIGN_OR_RETURN(formats::SafetensorsCheckpoint ckpt,
                        formats::SafetensorsCheckpoint::Open(model_dir));
  GgufWriter w;
  TUNE_RETURN_IF_ERROR(SetModelMetadata(w, c, ftype, pieces));
  const gguf::ModelLayout layout{c.n_layer, ckpt.Find("lm_head.weight") != nullptr};
  for (const std::string& hf : ckpt.names()) {
    const formats::TensorView* t = ckpt.Find(hf);
    std::string module = hf;
    if (!module.ends_with(".weight")) continue;
    module.resize(module.size() - 7);
    const std::string base = GgufName(module);
    if (base.empty()) continue;  // e.g. rotary inv_freq: llama.cpp would reject extra tensors
    const std::string name = base + ".weight";
    std::vector<int64_t> ne(t->shape.rbegin(), t->shape.rend());
    const GgmlType type = gguf::TensorTypeFor(ftype, name, ne, layout);
    const int heads = PermuteHeads(base, c);
    TUNE_RETURN_IF_ERROR(w.AddTensor(
        name, type, ne, GgufWriter::TensorSource([t, ne, heads, type]() {
          std::span<const float> src = Floats(*t);
          std::vector<float> permuted;
          if (heads > 0) {
            permuted = PermuteRows(src, ne[1], ne[0], heads);
            src = permuted;
          }
          return gguf::QuantizeTensor(type, src, ne[0]);
        })));
  }
  return w.Write(out);
}

absl::Status WriteTinyLlamaLoraGguf(const std::filesystem::path& model_dir,
                                    const std::filesystem::path& out) {
  TUNE_ASSIGN_OR_RETURN(Config c, ReadConfig(model_dir));
  TUNE_ASSIGN_OR_RETURN(std::string cfg_text,
                        core::ReadFile(model_dir / "adapter/adapter_config.json"));
  const nlohmann::json cfg = nlohmann::json::parse(cfg_text);
  const float alpha = cfg.at("lora_alpha").get<float>();
  const int64_t rank = cfg.at("r").get<int64_t>();
  TUNE_ASSIGN_OR_RETURN(formats::SafetensorsCheckpoint ckpt,
                        formats::SafetensorsCheckpoint::OpenFile(
                            model_dir / "adapter/adapter_model.safetensors"));
  GgufWriter w;
  TUNE_RETURN_IF_ERROR(gguf::SetLoraAdapterMetadata(w, "llama", alpha));
  constexpr std::string_view kPrefix = "base_model.model.";
  constexpr std::string_view kSuffixA = ".lora_A.weight";
  // Owned copies: the permuted lora_b rows must outlive Write().
  std::vector<std::unique_ptr<std::string>> keep;
  for (const std::string& name : ckpt.names()) {
    if (!name.starts_with(kPrefix) || !name.ends_with(kSuffixA)) continue;
    const std::string module =
        name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffixA.size());
    const formats::TensorView* a = ckpt.Find(name);
    const formats::TensorView* b =
        ckpt.Find(absl::StrFormat("%s%s.lora_B.weight", kPrefix, module));
    const std::string base = GgufName(module);
    if (b == nullptr || base.empty()) {
      return absl::FailedPreconditionError(absl::StrFormat("adapter module '%s'", module));
    }
    const int64_t in = a->shape[1], out_features = b->shape[0];
    // convert_lora_to_gguf.py runs the base model's permute on lora_B (rows) only.
    std::span<const float> b_rows = Floats(*b);
    std::vector<float> permuted;
    if (int heads = PermuteHeads(base, c); heads > 0) {
      permuted = PermuteRows(b_rows, out_features, rank, heads);
      b_rows = permuted;
    }
    keep.push_back(std::make_unique<std::string>(reinterpret_cast<const char*>(b_rows.data()),
                                                 b_rows.size_bytes()));
    TUNE_RETURN_IF_ERROR(gguf::AddLoraPair(
        w, base + ".weight", GgmlType::kF32, in, out_features, rank,
        std::string_view(reinterpret_cast<const char*>(a->data), a->nbytes), *keep.back()));
  }
  return w.Write(out);
}

}  // namespace tune::testing
