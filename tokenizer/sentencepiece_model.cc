// Reads SentencePiece's tokenizer.model (a serialized sentencepiece.ModelProto) with a minimal
// protobuf wire-format reader: libprotobuf cannot share a process with LibTorch on Debian 12.
// Field numbers are those of sentencepiece_model.proto.
#include <cstring>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "tokenizer/loaders.h"

namespace tune::tokenizer::internal {
namespace {

// ModelProto fields.
constexpr uint32_t kModelPieces = 1, kModelTrainerSpec = 2, kModelNormalizerSpec = 3;
// ModelProto.SentencePiece fields.
constexpr uint32_t kPieceText = 1, kPieceScore = 2, kPieceType = 3;
// TrainerSpec fields.
constexpr uint32_t kTrainerModelType = 3, kTrainerByteFallback = 35, kTrainerUnkId = 40,
                   kTrainerBosId = 41, kTrainerEosId = 42, kTrainerPadId = 43;
constexpr uint64_t kModelTypeBpe = 2;
// NormalizerSpec fields.
constexpr uint32_t kNormalizerName = 1, kNormalizerCharsmap = 2, kNormalizerDummyPrefix = 3,
                   kNormalizerRemoveExtraWhitespaces = 4, kNormalizerEscapeWhitespaces = 5;

// One field of a message: its number and either a varint / fixed value or a byte range.
struct Field {
  uint32_t number;
  uint64_t value;          // varint, fixed32 or fixed64 payload
  std::string_view bytes;  // length-delimited payload
};

class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  // Reads the next field; false at the end of the message. Sets error() on malformed input.
  bool Next(Field& f) {
    if (pos_ >= data_.size() || error_) return false;
    uint64_t key;
    if (!Varint(key)) return Fail();
    f.number = static_cast<uint32_t>(key >> 3);
    f.bytes = {};
    switch (key & 7) {
      case 0:
        return Varint(f.value) || Fail();
      case 1:
        return Fixed(8, f.value) || Fail();
      case 5:
        return Fixed(4, f.value) || Fail();
      case 2: {
        uint64_t length;
        if (!Varint(length) || length > data_.size() - pos_) return Fail();
        f.bytes = data_.substr(pos_, length);
        pos_ += length;
        return true;
      }
      default:
        return Fail();
    }
  }
  bool error() const { return error_; }

 private:
  bool Fail() {
    error_ = true;
    return false;
  }
  bool Varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      const auto b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool Fixed(size_t n, uint64_t& v) {
    if (data_.size() - pos_ < n) return false;
    v = 0;
    std::memcpy(&v, data_.data() + pos_, n);  // little-endian host
    pos_ += n;
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool error_ = false;
};

absl::Status Malformed(const std::filesystem::path& path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: malformed SentencePiece model (%s); hint: pass the tokenizer.model of the base model",
      path.string(), what));
}

std::optional<int32_t> OptionalId(int64_t id) {
  return id < 0 ? std::nullopt : std::optional<int32_t>(static_cast<int32_t>(id));
}

}  // namespace

absl::StatusOr<VocabData> ReadSentencePieceModel(const std::filesystem::path& path,
                                                 std::string_view config_json) {
  TUNE_ASSIGN_OR_RETURN(std::string data, core::ReadFile(path));
  VocabData v;
  v.model = ModelKind::kSentencePiece;
  v.pre = "default";
  // proto2 defaults.
  uint64_t model_type = 1;  // UNIGRAM
  int64_t unk = 0, bos = 1, eos = 2, pad = -1;
  bool byte_fallback = false, escape_whitespaces = true;
  v.add_space_prefix = true;
  v.remove_extra_whitespaces = true;
  std::string normalizer_name;
  bool has_charsmap = false;

  WireReader model(data);
  Field f;
  while (model.Next(f)) {
    if (f.number == kModelPieces) {
      WireReader piece(f.bytes);
      Field p;
      std::string text;
      float score = 0;
      int64_t type = 1;
      while (piece.Next(p)) {
        if (p.number == kPieceText) text = std::string(p.bytes);
        if (p.number == kPieceScore) {
          const auto bits = static_cast<uint32_t>(p.value);
          std::memcpy(&score, &bits, sizeof(score));
        }
        if (p.number == kPieceType) type = static_cast<int64_t>(p.value);
      }
      if (piece.error()) return Malformed(path, "piece");
      if (type < 1 || type > 6) return Malformed(path, absl::StrFormat("piece type %d", type));
      v.tokens.push_back(std::move(text));
      v.scores.push_back(score);
      v.types.push_back(static_cast<TokenType>(type));
    } else if (f.number == kModelTrainerSpec) {
      WireReader spec(f.bytes);
      Field t;
      while (spec.Next(t)) {
        const auto as_int = static_cast<int64_t>(static_cast<int32_t>(t.value));
        if (t.number == kTrainerModelType) model_type = t.value;
        if (t.number == kTrainerByteFallback) byte_fallback = t.value != 0;
        if (t.number == kTrainerUnkId) unk = as_int;
        if (t.number == kTrainerBosId) bos = as_int;
        if (t.number == kTrainerEosId) eos = as_int;
        if (t.number == kTrainerPadId) pad = as_int;
      }
      if (spec.error()) return Malformed(path, "trainer_spec");
    } else if (f.number == kModelNormalizerSpec) {
      WireReader spec(f.bytes);
      Field n;
      while (spec.Next(n)) {
        if (n.number == kNormalizerName) normalizer_name = std::string(n.bytes);
        if (n.number == kNormalizerCharsmap) has_charsmap = !n.bytes.empty();
        if (n.number == kNormalizerDummyPrefix) v.add_space_prefix = n.value != 0;
        if (n.number == kNormalizerRemoveExtraWhitespaces) v.remove_extra_whitespaces = n.value;
        if (n.number == kNormalizerEscapeWhitespaces) escape_whitespaces = n.value != 0;
      }
      if (spec.error()) return Malformed(path, "normalizer_spec");
    }
  }
  if (model.error()) return Malformed(path, "truncated or not a protobuf");
  if (v.tokens.empty()) return Malformed(path, "no pieces");
  if (model_type != kModelTypeBpe) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: SentencePiece model_type %d is not supported; hint: only BPE models (model_type=2, "
        "as Llama-2, CodeLlama, Mistral, Gemma) are",
        path.string(), model_type));
  }
  if (has_charsmap || !escape_whitespaces) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: SentencePiece normalizer '%s' is not supported; hint: only identity normalization "
        "with whitespace escaping is (train with --normalization_rule_name=identity)",
        path.string(), normalizer_name));
  }
  const auto n = static_cast<int64_t>(v.tokens.size());
  auto id = [&](int64_t i) { return i < n ? OptionalId(i) : std::nullopt; };
  v.unk = id(unk), v.bos = id(bos), v.eos = id(eos), v.pad = id(pad);
  if (!byte_fallback) {
    // Byte pieces only mean something with byte fallback on.
    for (TokenType& t : v.types) {
      if (t == TokenType::kByte) t = TokenType::kUnused;
    }
  }
  // SentencePiece itself never adds BOS; the families using it do (HF LlamaTokenizer), unless
  // tokenizer_config.json says otherwise.
  v.add_bos = v.bos.has_value();
  if (!config_json.empty()) {
    auto config = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
    if (config.is_object() && config.contains("add_bos_token") &&
        config["add_bos_token"].is_boolean()) {
      v.add_bos = config["add_bos_token"].get<bool>();
    }
  }
  return v;
}

}  // namespace tune::tokenizer::internal
