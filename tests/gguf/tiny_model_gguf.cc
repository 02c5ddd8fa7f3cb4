#include "tests/gguf/tiny_model_gguf.h"

#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "formats/safetensors.h"
#include "gguf/arch.h"
#include "gguf/gguf_writer.h"
#include "gguf/lora_adapter.h"
#include "gguf/quants.h"
#include "nlohmann/json.hpp"

namespace tune::testing {
namespace {

using gguf::GgmlType;
using gguf::GgufWriter;

struct Model {
  gguf::Arch arch;
  gguf::HParams hp;
};

absl::StatusOr<Model> ReadConfig(const std::filesystem::path& dir) {
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(dir / "config.json"));
  const nlohmann::json j = nlohmann::json::parse(text);
  Model m;
  TUNE_ASSIGN_OR_RETURN(m.arch, gguf::ArchFromModelType(j.at("model_type").get<std::string>()));
  gguf::HParams& hp = m.hp;
  hp.n_layer = j.at("num_hidden_layers");
  hp.n_ctx = j.at("max_position_embeddings");
  hp.n_embd = j.at("hidden_size");
  hp.n_ff = j.at("intermediate_size");
  hp.n_head = j.at("num_attention_heads");
  hp.n_head_kv = j.at("num_key_value_heads");
  hp.head_dim = j.value("head_dim", nlohmann::json()).is_null() ? hp.n_embd / hp.n_head
                                                                : j.at("head_dim").get<uint32_t>();
  hp.n_vocab = j.at("vocab_size");
  // transformers 5 nests rope_theta in rope_parameters; older configs have it at the top.
  hp.rope_theta = j.contains("rope_parameters") ? j["rope_parameters"].at("rope_theta").get<float>()
                                                : j.value("rope_theta", 10000.0f);
  hp.norm_eps = j.contains("rms_norm_eps") ? j.at("rms_norm_eps").get<float>()
                                           : j.at("norm_epsilon").get<float>();
  return m;
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

  struct Field {
    uint32_t number = 0;
    uint32_t wire = 0;
    uint64_t varint = 0;     // wire type 0
    std::string_view bytes;  // wire types 1, 2, 5
  };
  absl::StatusOr<Field> Next() {
    Field f;
    TUNE_ASSIGN_OR_RETURN(uint64_t key, Varint());
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<uint32_t>(key & 7);
    switch (f.wire) {
      case 0: {
        TUNE_ASSIGN_OR_RETURN(f.varint, Varint());
        return f;
      }
      case 2: {
        TUNE_ASSIGN_OR_RETURN(uint64_t n, Varint());
        TUNE_ASSIGN_OR_RETURN(f.bytes, Take(n));
        return f;
      }
      case 1:
      case 5: {
        TUNE_ASSIGN_OR_RETURN(f.bytes, Take(f.wire == 1 ? 8 : 4));
        return f;
      }
      default:
        return absl::DataLossError(absl::StrFormat("tokenizer.model: wire type %d", f.wire));
    }
  }

 private:
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
  absl::StatusOr<std::string_view> Take(uint64_t n) {
    if (n > bytes_.size() - pos_) return absl::DataLossError("tokenizer.model: field past end");
    std::string_view s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view bytes_;
  size_t pos_ = 0;
};

// ModelProto field 1 = repeated SentencePiece {1: piece, 2: score (float), 3: type (enum)}.
absl::StatusOr<std::vector<Piece>> ReadPieces(const std::filesystem::path& path) {
  TUNE_ASSIGN_OR_RETURN(std::string bytes, core::ReadFile(path));
  std::vector<Piece> pieces;
  ProtoReader model(bytes);
  while (!model.done()) {
    TUNE_ASSIGN_OR_RETURN(ProtoReader::Field top, model.Next());
    if (top.number != 1 || top.wire != 2) continue;
    Piece piece;
    ProtoReader fields(top.bytes);
    while (!fields.done()) {
      TUNE_ASSIGN_OR_RETURN(ProtoReader::Field f, fields.Next());
      if (f.number == 1 && f.wire == 2) piece.text = std::string(f.bytes);
      if (f.number == 2 && f.wire == 5) std::memcpy(&piece.score, f.bytes.data(), 4);
      if (f.number == 3 && f.wire == 0) piece.type = static_cast<int32_t>(f.varint);
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

absl::Status SetTokenizerMetadata(GgufWriter& w, const std::vector<Piece>& pieces) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const Piece& p : pieces) {
    tokens.push_back(p.text);
    scores.push_back(p.score);
    types.push_back(p.type);
  }
  const std::vector<std::pair<std::string, gguf::Value>> kvs = {
      {"tokenizer.ggml.model", std::string("llama")},
      {"tokenizer.ggml.pre", std::string("default")},
      {"tokenizer.ggml.tokens", std::move(tokens)},
      {"tokenizer.ggml.scores", std::move(scores)},
      {"tokenizer.ggml.token_type", std::move(types)},
      {"tokenizer.ggml.bos_token_id", uint32_t{1}},
      {"tokenizer.ggml.eos_token_id", uint32_t{2}},
      {"tokenizer.ggml.unknown_token_id", uint32_t{0}},
      {"tokenizer.ggml.add_bos_token", true},
      {"tokenizer.ggml.add_eos_token", false},
  };
  for (const auto& [key, value] : kvs) TUNE_RETURN_IF_ERROR(w.Set(key, value));
  return absl::OkStatus();
}

std::span<const float> Floats(const formats::TensorView& t) {
  return {reinterpret_cast<const float*>(t.data), t.nbytes / sizeof(float)};
}

// The rows of `t` (as [rows, cols]) permuted for llama's q/k when `heads` > 0.
std::vector<float> MaybePermuted(std::span<const float> src, int64_t rows, int heads) {
  std::vector<float> out(src.begin(), src.end());
  if (heads > 0)
    gguf::PermuteQkRows(src, rows, static_cast<int64_t>(src.size()) / rows, heads, out);
  return out;
}

}  // namespace

absl::Status WriteTinyModelGguf(const std::filesystem::path& model_dir, gguf::FileType ftype,
                                const std::filesystem::path& out) {
  TUNE_ASSIGN_OR_RETURN(Model m, ReadConfig(model_dir));
  TUNE_ASSIGN_OR_RETURN(std::vector<Piece> pieces, ReadPieces(model_dir / "tokenizer.model"));
  if (pieces.size() != m.hp.n_vocab) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "tokenizer.model has %d pieces, config vocab_size is %d", pieces.size(), m.hp.n_vocab));
  }
  TUNE_ASSIGN_OR_RETURN(formats::SafetensorsCheckpoint ckpt,
                        formats::SafetensorsCheckpoint::Open(model_dir));
  GgufWriter w;
  TUNE_RETURN_IF_ERROR(gguf::SetArchMetadata(w, m.arch, m.hp));
  TUNE_RETURN_IF_ERROR(w.Set("general.type", std::string("model")));
  TUNE_RETURN_IF_ERROR(w.Set("general.name", model_dir.filename().string()));
  TUNE_RETURN_IF_ERROR(w.Set("general.file_type", static_cast<uint32_t>(ftype)));
  TUNE_RETURN_IF_ERROR(w.Set("general.quantization_version", uint32_t{2}));
  TUNE_RETURN_IF_ERROR(SetTokenizerMetadata(w, pieces));
  const gguf::ModelLayout layout{static_cast<int>(m.hp.n_layer),
                                 ckpt.Find("lm_head.weight") != nullptr};
  for (const std::string& hf : ckpt.names()) {
    TUNE_ASSIGN_OR_RETURN(std::optional<std::string> name, gguf::GgufTensorName(m.arch, hf));
    if (!name.has_value()) continue;
    const formats::TensorView* t = ckpt.Find(hf);
    const std::vector<int64_t> ne(t->shape.rbegin(), t->shape.rend());
    const GgmlType type = gguf::TensorTypeFor(ftype, *name, ne, layout);
    const int heads = gguf::QkPermuteHeads(m.arch, *name, m.hp);
    const int64_t rows = ne.size() > 1 ? ne[1] : ne[0];
    TUNE_RETURN_IF_ERROR(w.AddTensor(*name, type, ne, GgufWriter::TensorSource([=] {
      return gguf::QuantizeTensor(type, MaybePermuted(Floats(*t), rows, heads), ne[0]);
    })));
  }
  return w.Write(out);
}

absl::Status WriteTinyLoraGguf(const std::filesystem::path& model_dir,
                               const std::filesystem::path& out) {
  TUNE_ASSIGN_OR_RETURN(Model m, ReadConfig(model_dir));
  TUNE_ASSIGN_OR_RETURN(std::string cfg_text,
                        core::ReadFile(model_dir / "adapter/adapter_config.json"));
  const nlohmann::json cfg = nlohmann::json::parse(cfg_text);
  const int64_t rank = cfg.at("r").get<int64_t>();
  TUNE_ASSIGN_OR_RETURN(
      formats::SafetensorsCheckpoint ckpt,
      formats::SafetensorsCheckpoint::OpenFile(model_dir / "adapter/adapter_model.safetensors"));
  GgufWriter w;
  TUNE_RETURN_IF_ERROR(
      gguf::SetLoraAdapterMetadata(w, gguf::ArchName(m.arch), cfg.at("lora_alpha").get<float>()));
  constexpr std::string_view kPrefix = "base_model.model.";
  constexpr std::string_view kSuffixA = ".lora_A.weight";
  std::vector<std::unique_ptr<std::string>> permuted_b;  // must outlive Write()
  for (const std::string& name : ckpt.names()) {
    if (!name.starts_with(kPrefix) || !name.ends_with(kSuffixA)) continue;
    const std::string module =
        name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffixA.size());
    const formats::TensorView* a = ckpt.Find(name);
    const formats::TensorView* b =
        ckpt.Find(absl::StrFormat("%s%s.lora_B.weight", kPrefix, module));
    if (b == nullptr) return absl::FailedPreconditionError("lora_B missing for " + module);
    TUNE_ASSIGN_OR_RETURN(std::optional<std::string> base,
                          gguf::GgufTensorName(m.arch, module + ".weight"));
    const int64_t in = a->shape[1], out_features = b->shape[0];
    // convert_lora_to_gguf.py runs the base model's permute on lora_B (rows) only.
    const std::vector<float> b_rows =
        MaybePermuted(Floats(*b), out_features, gguf::QkPermuteHeads(m.arch, *base, m.hp));
    permuted_b.push_back(std::make_unique<std::string>(reinterpret_cast<const char*>(b_rows.data()),
                                                       b_rows.size() * sizeof(float)));
    TUNE_RETURN_IF_ERROR(gguf::AddLoraPair(
        w, *base, GgmlType::kF32, in, out_features, rank,
        std::string_view(reinterpret_cast<const char*>(a->data), a->nbytes), *permuted_b.back()));
  }
  return w.Write(out);
}

}  // namespace tune::testing
