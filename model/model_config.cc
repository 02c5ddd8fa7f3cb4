#include "model/model_config.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"

namespace tune::model {
namespace {

using json = nlohmann::json;

class JsonFields {
 public:
  JsonFields(const json& j, std::string_view origin) : j_(j), origin_(origin) {}

  absl::StatusOr<int64_t> Int(const char* key) const {
    if (!j_.contains(key) || !j_[key].is_number_integer() || j_[key].get<int64_t>() <= 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: field \"%s\" must be a positive integer", origin_, key));
    }
    return j_[key].get<int64_t>();
  }
  std::optional<int64_t> OptionalInt(const char* key) const {
    if (!j_.contains(key) || !j_[key].is_number_integer()) return std::nullopt;
    return j_[key].get<int64_t>();
  }
  double Number(const char* key, double fallback) const {
    return j_.contains(key) && j_[key].is_number() ? j_[key].get<double>() : fallback;
  }
  bool Bool(const char* key, bool fallback) const {
    return j_.contains(key) && j_[key].is_boolean() ? j_[key].get<bool>() : fallback;
  }

 private:
  const json& j_;
  std::string_view origin_;
};

// eos_token_id may be a list (Llama 3 instruct); the first entry is the primary one.
std::optional<int32_t> TokenId(const json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  const json& v = j[key];
  if (v.is_number_integer()) return v.get<int32_t>();
  if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int32_t>();
  return std::nullopt;
}

absl::StatusOr<RopeConfig> ParseRope(const json& j, std::string_view origin) {
  RopeConfig rope;
  // transformers 5: {"rope_parameters": {"rope_theta", "rope_type", ...}};
  // earlier: "rope_theta" at the top level and an optional "rope_scaling" object.
  const json* params = nullptr;
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
    params = &j["rope_parameters"];
  } else if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
    params = &j["rope_scaling"];
  }
  if (params != nullptr && params->contains("rope_theta") && (*params)["rope_theta"].is_number()) {
    rope.theta = (*params)["rope_theta"].get<double>();
  } else if (j.contains("rope_theta") && j["rope_theta"].is_number()) {
    rope.theta = j["rope_theta"].get<double>();
  }
  if (params == nullptr) return rope;
  std::string type = "default";
  for (const char* key : {"rope_type", "type"}) {
    if (params->contains(key) && (*params)[key].is_string()) type = (*params)[key].get<std::string>();
  }
  JsonFields p(*params, origin);
  if (type == "default") {
    rope.scaling = RopeScaling::kNone;
  } else if (type == "linear") {
    rope.scaling = RopeScaling::kLinear;
    rope.factor = p.Number("factor", 1.0);
  } else if (type == "llama3") {
    rope.scaling = RopeScaling::kLlama3;
    rope.factor = p.Number("factor", 8.0);
    rope.low_freq_factor = p.Number("low_freq_factor", 1.0);
    rope.high_freq_factor = p.Number("high_freq_factor", 4.0);
    rope.original_max_position_embeddings =
        p.OptionalInt("original_max_position_embeddings").value_or(8192);
  } else {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: rope type \"%s\" is not supported (default, linear, llama3)", origin, type));
  }
  if (rope.factor <= 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: rope scaling factor must be > 0, got %g", origin, rope.factor));
  }
  return rope;
}

}  // namespace

std::string ArchName(Arch arch) {
  switch (arch) {
    case Arch::kLlama: return "llama";
    case Arch::kQwen2: return "qwen2";
    case Arch::kQwen3: return "qwen3";
    case Arch::kStarcoder2: return "starcoder2";
  }
  return "unknown";
}

absl::StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text,
                                             std::string_view origin) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: not a JSON object", origin));
  }
  ModelConfig c;
  std::string model_type = j.value("model_type", "");
  if (model_type == "llama" || model_type == "mistral") {
    // Mistral-style checkpoints without sliding window are llama; with one, the window applies.
    c.arch = Arch::kLlama;
  } else if (model_type == "qwen2") {
    c.arch = Arch::kQwen2;
  } else if (model_type == "qwen3") {
    c.arch = Arch::kQwen3;
  } else if (model_type == "starcoder2") {
    c.arch = Arch::kStarcoder2;
  } else {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: model_type \"%s\" is not supported; tune runs llama (Llama 2/3, CodeLlama, "
        "DeepSeek-Coder 1.x), qwen2 (Qwen2.5-Coder), qwen3 and starcoder2",
        origin, model_type));
  }
  JsonFields f(j, origin);
  TUNE_ASSIGN_OR_RETURN(c.vocab_size, f.Int("vocab_size"));
  TUNE_ASSIGN_OR_RETURN(c.hidden_size, f.Int("hidden_size"));
  TUNE_ASSIGN_OR_RETURN(c.intermediate_size, f.Int("intermediate_size"));
  TUNE_ASSIGN_OR_RETURN(c.num_layers, f.Int("num_hidden_layers"));
  TUNE_ASSIGN_OR_RETURN(c.num_heads, f.Int("num_attention_heads"));
  c.num_kv_heads = f.OptionalInt("num_key_value_heads").value_or(c.num_heads);
  c.head_dim = f.OptionalInt("head_dim").value_or(c.hidden_size / c.num_heads);
  c.max_position_embeddings = f.OptionalInt("max_position_embeddings").value_or(4096);
  if (c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", origin,
        c.num_heads, c.num_kv_heads));
  }
  if (c.head_dim <= 0 || c.head_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: head_dim must be even and > 0, got %d", origin, c.head_dim));
  }
  if (c.arch != Arch::kQwen3 && !j.contains("head_dim") && c.hidden_size % c.num_heads != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: hidden_size %d is not divisible by num_attention_heads %d", origin, c.hidden_size,
        c.num_heads));
  }
  c.norm_eps = c.arch == Arch::kStarcoder2 ? f.Number("norm_epsilon", 1e-5)
                                           : f.Number("rms_norm_eps", 1e-6);
  TUNE_ASSIGN_OR_RETURN(c.rope, ParseRope(j, origin));
  c.tie_word_embeddings = f.Bool("tie_word_embeddings", c.arch != Arch::kLlama);
  switch (c.arch) {
    case Arch::kLlama:
    case Arch::kQwen3:
      c.attention_bias = f.Bool("attention_bias", false);
      c.attention_out_bias = c.attention_bias;
      c.mlp_bias = f.Bool("mlp_bias", false);
      break;
    case Arch::kQwen2:
      c.attention_bias = true;  // Qwen2Attention hard-codes bias on q, k, v and none on o
      break;
    case Arch::kStarcoder2:
      c.attention_bias = c.attention_out_bias = c.mlp_bias = f.Bool("use_bias", true);
      break;
  }
  std::string act = j.value("hidden_act", c.arch == Arch::kStarcoder2 ? "gelu_pytorch_tanh" : "silu");
  const std::string expected_act = c.arch == Arch::kStarcoder2 ? "gelu_pytorch_tanh" : "silu";
  if (act != expected_act) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: hidden_act \"%s\" is not supported for %s (expected %s)", origin, act,
        ArchName(c.arch), expected_act));
  }
  // Qwen2/3 store a window but only apply it with use_sliding_window; starcoder2 and mistral
  // apply it whenever it is set.
  std::optional<int64_t> window = f.OptionalInt("sliding_window");
  if (c.arch == Arch::kQwen2 || c.arch == Arch::kQwen3) {
    // Qwen applies its window only to layers past max_window_layers when use_sliding_window is
    // set; no released Qwen coder model does, so refuse rather than approximate.
    if (window && f.Bool("use_sliding_window", false)) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: use_sliding_window=true is not supported for %s", origin, ArchName(c.arch)));
    }
  } else if (window) {
    c.sliding_window = window;
  }
  c.bos_token_id = TokenId(j, "bos_token_id");
  c.eos_token_id = TokenId(j, "eos_token_id");
  return c;
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::filesystem::path& dir) {
  std::filesystem::path path = dir / "config.json";
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  return ParseModelConfig(text, path.string());
}

}  // namespace tune::model
