// Reads Hugging Face tokenizer.json for the BPE models tune supports and maps its pipeline
// (normalizer, pre-tokenizer, model, decoder) onto VocabData. Anything outside the supported
// pipelines is rejected with an error naming the field, never approximated.
#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "tokenizer/loaders.h"
#include "tokenizer/pretokenizer.h"

namespace tune::tokenizer::internal {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // ▁
constexpr std::string_view kFullWidthOpen = "<\xEF\xBD\x9C";    // <｜ (DeepSeek)
constexpr std::string_view kFullWidthClose = "\xEF\xBD\x9C>";   // ｜>

std::string Str(const Json& j, std::string_view key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

// The pre-tokenizer steps as a flat list (a Sequence is unpacked; null gives none).
std::vector<Json> Steps(const Json& j) {
  if (j.is_null()) return {};
  if (Str(j, "type") == "Sequence") {
    for (const char* key : {"pretokenizers", "normalizers"}) {
      if (j.contains(key)) return j[key].get<std::vector<Json>>();
    }
  }
  return {j};
}

absl::Status Unsupported(const std::filesystem::path& path, std::string_view field,
                         const Json& value) {
  return absl::UnimplementedError(absl::StrFormat(
      "%s: unsupported %s %s; hint: supported are byte-level BPE (Qwen2/3, Llama-3, GPT-2, "
      "StarCoder pre-tokenizers) and SentencePiece-style BPE with byte fallback, see "
      "docs/tokenizers.md",
      path.string(), field, value.dump().substr(0, 300)));
}

// Byte-level BPE: ByteLevel(use_regex=false) after Splits with known regexes, ByteLevel with the
// GPT-2 regex, or Digits(individual) + ByteLevel(GPT-2 regex).
absl::StatusOr<PreTokenizerKind> ByteLevelPreTokenizer(const std::filesystem::path& path,
                                                       const Json& pre) {
  std::vector<std::string> regexes;
  bool digits = false, byte_level = false, gpt2_regex = false;
  for (Json step : Steps(pre)) {
    const std::string type = Str(step, "type");
    if (type == "Split" && step["pattern"].contains("Regex") &&
        Str(step, "behavior") == "Isolated" && !step.value("invert", false)) {
      regexes.push_back(step["pattern"]["Regex"].get<std::string>());
    } else if (type == "Digits" && step.value("individual_digits", false)) {
      digits = true;
    } else if (type == "ByteLevel" && !step.value("add_prefix_space", false)) {
      byte_level = true;
      gpt2_regex = step.value("use_regex", true);
    } else {
      return Unsupported(path, "pre_tokenizer step", step);
    }
  }
  if (!byte_level) return Unsupported(path, "pre_tokenizer (no ByteLevel step)", pre);
  if (gpt2_regex && regexes.empty()) {
    return digits ? PreTokenizerKind::kStarcoder : PreTokenizerKind::kGpt2;
  }
  if (!gpt2_regex && !digits) {
    if (auto kind = PreTokenizerFromRegexes(regexes)) return *kind;
  }
  return Unsupported(path, "pre_tokenizer", pre);
}

// model.vocab and model.merges, taken out of the parse as they stream by: kept in the DOM they
// were most of the load time (a std::map node and a string compare chain per token).
struct VocabAndMerges {
  std::vector<std::pair<std::string, Json>> vocab;  // token, id as parsed
  std::vector<Json> merges;                         // "a b" or ["a", "b"] as parsed
};

// Parses tokenizer.json, moving model.vocab's entries and model.merges' elements into `out`
// (the DOM keeps those two containers, empty).
Json ParseStreamingVocab(const std::string& text, VocabAndMerges& out) {
  enum class Section { kOther, kVocab, kMerges };
  bool in_model = false;
  Section section = Section::kOther;
  std::string key;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    using E = Json::parse_event_t;
    if (event == E::key && depth == 1) in_model = parsed == "model";
    if (event == E::key && depth == 2 && in_model) {
      section = parsed == "vocab" ? Section::kVocab
                : parsed == "merges" ? Section::kMerges
                                     : Section::kOther;
    }
    if (depth != 3 || section == Section::kOther) return true;
    if (section == Section::kVocab) {
      if (event == E::key) {
        key = parsed.get<std::string>();
        return false;
      }
      // An id that is an object or an array is kept as null: rejected below as a bad id.
      out.vocab.emplace_back(std::move(key), event == E::value ? std::move(parsed) : Json());
      return false;
    }
    // merges: a string element (value), or a pair array, whole at its array_end.
    if (event == E::value || event == E::array_end || event == E::object_end) {
      out.merges.push_back(std::move(parsed));
      return false;
    }
    return true;
  };
  return Json::parse(text, callback, /*allow_exceptions=*/false);
}

absl::StatusOr<std::vector<std::string>> Merges(const std::filesystem::path& path,
                                                const std::vector<Json>& merges) {
  std::vector<std::string> out;
  out.reserve(merges.size());
  for (const Json& m : merges) {
    if (m.is_string()) {
      out.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.push_back(absl::StrFormat("%s %s", m[0].get<std::string>(), m[1].get<std::string>()));
    } else {
      return Unsupported(path, "model.merges entry", m);
    }
  }
  return out;
}

// A special token named in tokenizer_config.json: a string or {"content": ...}.
std::optional<int32_t> ConfigToken(const Json& config, std::string_view key,
                                   const absl::flat_hash_map<std::string, int32_t>& ids) {
  auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  std::string text = it->is_string() ? it->get<std::string>() : Str(*it, "content");
  auto id = ids.find(text);
  return id == ids.end() ? std::nullopt : std::optional<int32_t>(id->second);
}

}  // namespace

absl::StatusOr<VocabData> ReadHfTokenizerJson(const std::filesystem::path& path,
                                             std::string_view config_json) {
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  VocabAndMerges streamed;
  Json j = ParseStreamingVocab(text, streamed);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: not valid JSON; hint: pass a Hugging Face tokenizer.json", path.string()));
  }
  Json config = config_json.empty()
                    ? Json::object()
                    : Json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: tokenizer_config.json beside it is not a JSON object; hint: fix or remove it",
        path.string()));
  }
  Json& model = j["model"];
  if (Str(model, "type") != "BPE" || !model["vocab"].is_object() ||
      !model["merges"].is_array()) {
    return Unsupported(path, "model (need type BPE with vocab and merges)",
                       Json(Str(model, "type")));
  }

  VocabData v;
  const bool byte_fallback = model.value("byte_fallback", false);
  if (byte_fallback) {
    v.model = ModelKind::kSentencePiece;
    v.pre = "default";
    // Llama-2 legacy: Prepend("▁") + Replace(" ", "▁") normalizers; newer files: a Metaspace
    // pre-tokenizer.
    // pre-tokenizer (Gemma: the same Replace and a Split on " " that then never splits).
    bool spaces_replaced = false;
    for (Json n : Steps(j["normalizer"])) {
      const std::string type = Str(n, "type");
      if (type == "Prepend" && Str(n, "prepend") == kMetaspace) {
        v.add_space_prefix = true;
      } else if (type == "Replace" && Str(n["pattern"], "String") == " " &&
                 Str(n, "content") == kMetaspace) {
        spaces_replaced = true;
      } else {
        return Unsupported(path, "normalizer", n);
      }
    }
    for (Json p : Steps(j["pre_tokenizer"])) {
      const std::string type = Str(p, "type");
      if (type == "Metaspace" && !p.value("split", false)) {
        v.add_space_prefix = Str(p, "prepend_scheme") != "never";
      } else if (!(type == "Split" && spaces_replaced && Str(p["pattern"], "String") == " ")) {
        return Unsupported(path, "pre_tokenizer", p);
      }
    }
  } else {
    v.model = ModelKind::kByteLevelBpe;
    TUNE_ASSIGN_OR_RETURN(PreTokenizerKind kind, ByteLevelPreTokenizer(path, j["pre_tokenizer"]));
    v.pre = std::string(PreTokenizerGgufName(kind));
    for (Json n : Steps(j["normalizer"])) {
      // Qwen's NFC is implied by its pre-tokenizer name, as in GGUF.
      if (!(Str(n, "type") == "NFC" && kind == PreTokenizerKind::kQwen2)) {
        return Unsupported(path, "normalizer", n);
      }
    }
    if (kind == PreTokenizerKind::kQwen2 && Steps(j["normalizer"]).empty()) {
      return Unsupported(path, "normalizer (the Qwen2 pre-tokenizer comes with NFC)",
                         j["normalizer"]);
    }
  }

  // Vocabulary: model.vocab plus added_tokens (which may extend it).
  absl::flat_hash_map<std::string, int32_t> ids;
  int32_t size = 0;
  for (const auto& [token, id] : streamed.vocab) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 24)) {
      return Unsupported(path, "model.vocab id", id);
    }
    ids[token] = id.get<int32_t>();
    size = std::max(size, id.get<int32_t>() + 1);
  }
  Json& added = j["added_tokens"];
  for (const Json& a : added) {
    // An integer in range before any conversion: value("id", -1) converted a float unchecked
    // (undefined behaviour for 1e30).
    const Json* id = a.is_object() && a.contains("id") ? &a["id"] : nullptr;
    if (id == nullptr || !id->is_number_integer() || id->get<int64_t>() < 0 ||
        id->get<int64_t>() >= (1 << 24)) {
      return Unsupported(path, "added_tokens id", a);
    }
    size = std::max(size, id->get<int32_t>() + 1);
  }
  v.tokens.resize(size);
  v.types.assign(size, TokenType::kUnused);
  for (const auto& [token, id] : ids) {
    v.tokens[id] = token;
    v.types[id] = TokenType::kNormal;
    if (byte_fallback && token.size() == 6 && token.starts_with("<0x") && token.back() == '>') {
      v.types[id] = TokenType::kByte;
    }
  }
  for (const Json& a : added) {
    const int32_t id = a["id"].get<int32_t>();
    v.tokens[id] = Str(a, "content");
    // Like llama.cpp's converter: special tokens, and ones that look like control tokens
    // (Qwen marks its FIM tokens non-special), are control; the rest user-defined.
    const std::string& t = v.tokens[id];
    const bool control_looking = (t.starts_with("<|") && t.ends_with("|>")) ||
                                 (t.starts_with(kFullWidthOpen) && t.ends_with(kFullWidthClose));
    v.types[id] = a.value("special", false) || control_looking ? TokenType::kControl
                                                               : TokenType::kUserDefined;
    ids[v.tokens[id]] = id;
  }
  if (std::string unk = Str(model, "unk_token"); !unk.empty()) {
    auto it = ids.find(unk);
    if (it == ids.end()) return Unsupported(path, "model.unk_token", model["unk_token"]);
    v.unk = it->second;
    v.types[it->second] = TokenType::kUnknown;
  }
  TUNE_ASSIGN_OR_RETURN(v.merges, Merges(path, streamed.merges));

  v.bos = ConfigToken(config, "bos_token", ids);
  v.eos = ConfigToken(config, "eos_token", ids);
  v.pad = ConfigToken(config, "pad_token", ids);
  // add_bos: tokenizer_config.json's flag, else whether the post-processor template starts
  // with a special token.
  if (auto it = config.find("add_bos_token"); it != config.end() && it->is_boolean()) {
    v.add_bos = it->get<bool>();
  } else if (Json& post = j["post_processor"]; Str(post, "type") == "TemplateProcessing") {
    Json& single = post["single"];
    v.add_bos = single.is_array() && !single.empty() && single[0].contains("SpecialToken");
  }
  return v;
}

}  // namespace tune::tokenizer::internal
