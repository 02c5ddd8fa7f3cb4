#include "formats/peft_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "core/json_fields.h"
#include "core/status.h"

namespace tune::formats {
namespace {

using json = nlohmann::json;

// Wider ranks than any published adapter; the bound keeps a hostile file from asking for a
// multi-terabyte tensor later.
constexpr int64_t kMaxRank = 65536;

template <typename T>
const T* MatchPattern(const std::map<std::string, T>& patterns, const std::string& module) {
  for (const auto& [key, value] : patterns) {
    if (PeftKeyMatches(module, key)) return &value;
  }
  return nullptr;
}

absl::Status Unsupported(std::string_view origin, std::string_view what) {
  return absl::UnimplementedError(
      absl::StrFormat("%s: %s is not supported; tune applies plain LoRA adapters", origin, what));
}

// A rank: an integer in [1, kMaxRank].
absl::StatusOr<int64_t> Rank(const core::JsonFields& f, const json& j, std::string_view key, std::string_view where) {
  TUNE_ASSIGN_OR_RETURN(uint64_t r, f.Unsigned(j, key, kMaxRank, where));
  if (r == 0) return f.Error(std::string(where) + std::string(key), "is 0; a LoRA rank is at least 1");
  return static_cast<int64_t>(r);
}

absl::Status CheckSupported(const json& j, const core::JsonFields& f, std::string_view origin) {
  if (core::JsonFields::Has(j, "peft_type")) {
    TUNE_ASSIGN_OR_RETURN(std::string peft_type, f.String(j, "peft_type"));
    if (peft_type != "LORA") return Unsupported(origin, "peft_type " + peft_type);
  }
  for (const char* flag : {"use_dora", "fan_in_fan_out"}) {
    if (!core::JsonFields::Has(j, flag)) continue;
    TUNE_ASSIGN_OR_RETURN(bool set, f.Bool(j, flag));
    if (set) return Unsupported(origin, flag);
  }
  if (core::JsonFields::Has(j, "bias")) {
    TUNE_ASSIGN_OR_RETURN(std::string bias, f.String(j, "bias"));
    if (bias != "none") return Unsupported(origin, "bias != \"none\"");
  }
  if (core::JsonFields::Has(j, "modules_to_save")) return Unsupported(origin, "modules_to_save");
  return absl::OkStatus();
}

absl::Status ReadPatterns(const json& j, const core::JsonFields& f, LoraConfig& c) {
  for (const char* key : {"rank_pattern", "alpha_pattern"}) {
    if (!core::JsonFields::Has(j, key)) continue;
    TUNE_ASSIGN_OR_RETURN(const json* patterns, f.Field(j, key, json::value_t::object));
    const std::string where = std::string(key) + ".";
    for (const auto& [module, value] : patterns->items()) {
      if (std::string_view(key) == "rank_pattern") {
        TUNE_ASSIGN_OR_RETURN(c.rank_pattern[module], Rank(f, *patterns, module, where));
      } else {
        TUNE_ASSIGN_OR_RETURN(c.alpha_pattern[module], f.Number(*patterns, module, -1e9, 1e9, where));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool PeftKeyMatches(const std::string& module, const std::string& key) {
  return module == key || absl::EndsWith(module, "." + key);
}

int64_t LoraConfig::RankFor(const std::string& module) const {
  const int64_t* r_override = MatchPattern(rank_pattern, module);
  return r_override != nullptr ? *r_override : r;
}

double LoraConfig::ScaleFor(const std::string& module) const {
  const double* a_override = MatchPattern(alpha_pattern, module);
  const double a = a_override != nullptr ? *a_override : alpha;
  const double rank = static_cast<double>(RankFor(module));
  return use_rslora ? a / std::sqrt(rank) : a / rank;
}

absl::StatusOr<LoraConfig> ParseLoraConfig(std::string_view json_text, std::string_view origin) {
  const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  const core::JsonFields f(std::string(origin), "fix adapter_config.json (PEFT's format)",
                           absl::StatusCode::kInvalidArgument);
  if (!j.is_object()) return f.Error("(top level)", "is not a JSON object");
  TUNE_RETURN_IF_ERROR(CheckSupported(j, f, origin));
  LoraConfig c;
  TUNE_ASSIGN_OR_RETURN(c.r, Rank(f, j, "r", ""));
  if (core::JsonFields::Has(j, "lora_alpha")) {
    TUNE_ASSIGN_OR_RETURN(c.alpha, f.Number(j, "lora_alpha", -1e9, 1e9));
  }
  if (core::JsonFields::Has(j, "lora_dropout")) {
    TUNE_ASSIGN_OR_RETURN(c.dropout, f.Number(j, "lora_dropout", 0.0, 0.999999));
  }
  if (core::JsonFields::Has(j, "use_rslora")) {
    TUNE_ASSIGN_OR_RETURN(c.use_rslora, f.Bool(j, "use_rslora"));
  }
  if (j.contains("target_modules") && j["target_modules"].is_array()) {
    for (const json& m : j["target_modules"]) {
      if (m.is_string()) c.target_modules.push_back(m.get<std::string>());
    }
  }
  TUNE_RETURN_IF_ERROR(ReadPatterns(j, f, c));
  return c;
}

}  // namespace tune::formats
