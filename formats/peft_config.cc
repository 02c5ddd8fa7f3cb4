#include "formats/peft_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

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

bool IsRank(const json& v) {
  return v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= kMaxRank;
}

bool IsFinite(const json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

class ConfigReader {
 public:
  ConfigReader(const json& j, std::string_view origin) : j_(j), origin_(origin) {}

  // The string at `key`, or `fallback` when absent or null.
  absl::StatusOr<std::string> String(const char* key, const std::string& fallback) const {
    if (!j_.contains(key) || j_[key].is_null()) return fallback;
    if (!j_[key].is_string()) return Invalid(absl::StrFormat("\"%s\" must be a string", key));
    return j_[key].get<std::string>();
  }
  absl::StatusOr<bool> Bool(const char* key) const {
    if (!j_.contains(key) || j_[key].is_null()) return false;
    if (!j_[key].is_boolean()) return Invalid(absl::StrFormat("\"%s\" must be true or false", key));
    return j_[key].get<bool>();
  }
  absl::StatusOr<double> Number(const char* key, double fallback, double min, double max) const {
    if (!j_.contains(key) || j_[key].is_null()) return fallback;
    if (!IsFinite(j_[key]) || j_[key].get<double>() < min || j_[key].get<double>() > max) {
      return Invalid(absl::StrFormat("\"%s\" must be a number in [%g, %g]", key, min, max));
    }
    return j_[key].get<double>();
  }
  absl::Status Invalid(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", origin_, what));
  }
  absl::Status Unsupported(const std::string& what) const {
    return absl::UnimplementedError(
        absl::StrFormat("%s: %s is not supported; tune applies plain LoRA adapters", origin_, what));
  }

 private:
  const json& j_;
  std::string_view origin_;
};

absl::Status CheckSupported(const json& j, const ConfigReader& read) {
  absl::StatusOr<std::string> peft_type = read.String("peft_type", "LORA");
  if (!peft_type.ok()) return peft_type.status();
  if (*peft_type != "LORA") return read.Unsupported("peft_type " + *peft_type);
  for (const char* flag : {"use_dora", "fan_in_fan_out"}) {
    absl::StatusOr<bool> set = read.Bool(flag);
    if (!set.ok()) return set.status();
    if (*set) return read.Unsupported(flag);
  }
  absl::StatusOr<std::string> bias = read.String("bias", "none");
  if (!bias.ok()) return bias.status();
  if (*bias != "none") return read.Unsupported("bias != \"none\"");
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null()) return read.Unsupported("modules_to_save");
  return absl::OkStatus();
}

absl::Status ReadPatterns(const json& j, const ConfigReader& read, LoraConfig& c) {
  for (const char* key : {"rank_pattern", "alpha_pattern"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    if (!j[key].is_object()) return read.Invalid(absl::StrFormat("\"%s\" must be an object", key));
    const bool ranks = std::string_view(key) == "rank_pattern";
    for (const auto& [k, v] : j[key].items()) {
      if (ranks ? !IsRank(v) : !IsFinite(v)) {
        return read.Invalid(absl::StrFormat("%s.%s must be %s", key, k,
                                            ranks ? absl::StrFormat("an integer in [1, %d]", kMaxRank)
                                                  : std::string("a finite number")));
      }
      if (ranks) {
        c.rank_pattern[k] = v.get<int64_t>();
      } else {
        c.alpha_pattern[k] = v.get<double>();
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
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrFormat("%s: not a JSON object", origin));
  const ConfigReader read(j, origin);
  if (absl::Status s = CheckSupported(j, read); !s.ok()) return s;
  LoraConfig c;
  if (!j.contains("r") || !IsRank(j["r"])) {
    return read.Invalid(absl::StrFormat("\"r\" must be an integer in [1, %d]", kMaxRank));
  }
  c.r = j["r"].get<int64_t>();
  absl::StatusOr<double> alpha = read.Number("lora_alpha", 8.0, -1e9, 1e9);
  absl::StatusOr<double> dropout = read.Number("lora_dropout", 0.0, 0.0, 0.999999);
  absl::StatusOr<bool> rslora = read.Bool("use_rslora");
  for (const absl::Status& s : {alpha.status(), dropout.status(), rslora.status()}) {
    if (!s.ok()) return s;
  }
  c.alpha = *alpha;
  c.dropout = *dropout;
  c.use_rslora = *rslora;
  if (j.contains("target_modules") && j["target_modules"].is_array()) {
    for (const json& m : j["target_modules"]) {
      if (m.is_string()) c.target_modules.push_back(m.get<std::string>());
    }
  }
  if (absl::Status s = ReadPatterns(j, read, c); !s.ok()) return s;
  return c;
}

}  // namespace tune::formats
