#include "inference/http_api.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/strings/str_split.h"
#include "core/status.h"

namespace tune::inference {
namespace {

using json = nlohmann::json;

// absl::StrCat for std::string_view (Debian's Abseil has its own absl::string_view).
void Append(std::string& out, std::string_view s) { out.append(s); }
template <typename T>
  requires std::is_integral_v<T>
void Append(std::string& out, T v) {
  out += std::to_string(v);
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (Append(out, args), ...);
  return out;
}

constexpr std::string_view kExtraShape =
    "\"input_extra\" must be an array of {\"filename\": string, \"text\": string}";

absl::Status TypeError(std::string_view key, std::string_view expected) {
  return absl::InvalidArgumentError(Cat("field \"", key, "\" must be ", expected));
}

absl::Status RangeError(std::string_view key, int64_t min, int64_t max, int64_t got) {
  return absl::InvalidArgumentError(
      Cat("field \"", key, "\" must be in [", min, ", ", max, "], got ", got));
}

// The body as JSON; syntax errors keep nlohmann's "at line L, column C: ..." text.
absl::StatusOr<json> ParseBody(std::string_view body) {
  try {
    return json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {  // parse_error; out_of_range for 1e999
    std::string_view what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> drop the tag.
    if (size_t tag_end = what.find("] "); what.starts_with("[json.") && tag_end != what.npos) {
      what.remove_prefix(tag_end + 2);
    }
    return absl::InvalidArgumentError(Cat("request body is not valid JSON: ", what));
  }
}

absl::StatusOr<json> ParseObjectBody(std::string_view body) {
  TUNE_ASSIGN_OR_RETURN(json j, ParseBody(body));
  if (!j.is_object()) return absl::InvalidArgumentError("request body must be a JSON object");
  return j;
}

// The value of `key`, or nullptr when it is absent or null.
const json* Find(const json& obj, std::string_view key) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// An integer-valued JSON number (128 or 128.0) as int64, else a type error for `key`.
absl::StatusOr<int64_t> AsInteger(const json& v, std::string_view key) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(Cat("field \"", key, "\" is out of range"));
    }
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) {
      return static_cast<int64_t>(d);
    }
  }
  return TypeError(key, "an integer");
}

absl::StatusOr<int64_t> AsIntegerIn(const json& v, std::string_view key, int64_t min,
                                    int64_t max) {
  TUNE_ASSIGN_OR_RETURN(int64_t x, AsInteger(v, key));
  if (x < min || x > max) return RangeError(key, min, max, x);
  return x;
}

absl::StatusOr<float> AsFloat(const json& v, std::string_view key) {
  if (!v.is_number()) return TypeError(key, "a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || !std::isfinite(static_cast<float>(d))) {
    return TypeError(key, "a finite number");
  }
  return static_cast<float>(d);
}

// Optional-field readers: leave `out` alone when the key is absent or null.
absl::Status ReadInt(const json& obj, std::string_view key, int64_t min, int64_t max,
                     int32_t& out) {
  const json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  TUNE_ASSIGN_OR_RETURN(int64_t x, AsIntegerIn(*v, key, min, max));
  out = static_cast<int32_t>(x);
  return absl::OkStatus();
}

absl::Status ReadFloat(const json& obj, std::string_view key, float& out) {
  const json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  TUNE_ASSIGN_OR_RETURN(out, AsFloat(*v, key));
  return absl::OkStatus();
}

absl::Status ReadBool(const json& obj, std::string_view key, bool& out) {
  const json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_boolean()) return TypeError(key, "a boolean");
  out = v->get<bool>();
  return absl::OkStatus();
}

absl::Status ReadString(const json& obj, std::string_view key, std::string& out) {
  const json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_string()) return TypeError(key, "a string");
  out = v->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadRequiredString(const json& obj, std::string_view key, std::string& out) {
  if (Find(obj, key) == nullptr) {
    return absl::InvalidArgumentError(Cat("field \"", key, "\" is required"));
  }
  return ReadString(obj, key, out);
}

absl::StatusOr<std::vector<std::string>> AsStringArray(const json& v, std::string_view key) {
  if (!v.is_array()) return TypeError(key, "an array of strings");
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const json& e : v) {
    if (!e.is_string()) return TypeError(key, "an array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::vector<int32_t>> AsTokenArray(const json& v, std::string_view key) {
  if (!v.is_array()) return TypeError(key, "an array of token ids");
  std::vector<int32_t> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    if (!e.is_number_integer()) return TypeError(key, "an array of integer token ids");
    if (e.is_number_unsigned() ? e.get<uint64_t>() > static_cast<uint64_t>(INT32_MAX)
                               : (e.get<int64_t>() < 0 || e.get<int64_t>() > INT32_MAX)) {
      return absl::InvalidArgumentError(Cat("field \"", key, "\": token id ", e.dump(),
                                                     " at index ", i, " is out of range"));
    }
    out.push_back(static_cast<int32_t>(e.get<int64_t>()));
  }
  return out;
}

absl::StatusOr<std::vector<LoraScale>> AsLoraScales(const json& v, std::string_view key) {
  constexpr std::string_view kShape = "an array of {\"id\": integer, \"scale\": number}";
  if (!v.is_array()) return TypeError(key, kShape);
  std::vector<LoraScale> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    if (!e.is_object()) return TypeError(key, kShape);
    const json* id = Find(e, "id");
    if (id == nullptr) return TypeError(key, kShape);
    const std::string entry = Cat(key, "[", i, "]");
    LoraScale s;
    TUNE_ASSIGN_OR_RETURN(int64_t id_value, AsIntegerIn(*id, Cat(entry, ".id"), 0, INT32_MAX));
    s.id = static_cast<int32_t>(id_value);
    s.scale = 0.0f;  // llama.cpp: a missing scale is 0
    if (const json* scale = Find(e, "scale")) {
      TUNE_ASSIGN_OR_RETURN(s.scale, AsFloat(*scale, Cat(entry, ".scale")));
    }
    out.push_back(s);
  }
  return out;
}

// llama.cpp's one-letter sampler names (common_sampler_type_to_chr).
std::optional<std::string> SamplerForLetter(char c) {
  switch (c) {
    case 'd': return "dry";
    case 'k': return "top_k";
    case 'y': return "typ_p";
    case 'p': return "top_p";
    case 's': return "top_n_sigma";
    case 'm': return "min_p";
    case 'x': return "xtc";
    case 't': return "temperature";
    case 'i': return "infill";
    case 'e': return "penalties";
    default: return std::nullopt;
  }
}

absl::Status ReadSamplers(const json& obj, std::vector<std::string>& out) {
  const json* v = Find(obj, "samplers");
  if (v == nullptr) return absl::OkStatus();
  if (v->is_string()) {
    out.clear();
    for (char c : v->get<std::string>()) {
      if (auto name = SamplerForLetter(c)) out.push_back(*std::move(name));
    }
    return absl::OkStatus();
  }
  if (!v->is_array()) return TypeError("samplers", "an array of strings or a string of letters");
  TUNE_ASSIGN_OR_RETURN(out, AsStringArray(*v, "samplers"));
  return absl::OkStatus();
}

absl::Status ReadStop(const json& obj, const RequestLimits& limits, std::vector<std::string>& out) {
  const json* v = Find(obj, "stop");
  if (v == nullptr) return absl::OkStatus();
  std::vector<std::string> all;
  if (v->is_string()) {
    all.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const json& e : *v) {
      if (!e.is_string()) return TypeError("stop", "a string or an array of strings");
      all.push_back(e.get<std::string>());
    }
  } else {
    return TypeError("stop", "a string or an array of strings");
  }
  out.clear();
  for (std::string& s : all) {
    if (s.empty()) continue;  // would stop before the first token
    if (s.size() > static_cast<size_t>(limits.max_stop_bytes)) {
      return absl::InvalidArgumentError(Cat("field \"stop\": a stop string has ",
                                                     s.size(), " bytes; at most ",
                                                     limits.max_stop_bytes, " allowed"));
    }
    out.push_back(std::move(s));
  }
  if (out.size() > static_cast<size_t>(limits.max_stop_strings)) {
    return absl::InvalidArgumentError(Cat("field \"stop\" has ", out.size(),
                                                   " strings; at most ", limits.max_stop_strings,
                                                   " allowed"));
  }
  return absl::OkStatus();
}

absl::Status ReadCount(const json& obj, std::string_view key, const RequestLimits& limits,
                       int32_t& out) {
  const json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  TUNE_ASSIGN_OR_RETURN(int64_t n, AsInteger(*v, key));
  if (n < 1 || n > limits.max_n_cmpl) {
    // llama.cpp's wording, which llama.vscode shows to the user.
    return absl::InvalidArgumentError(Cat("Field '", key,
                                                   "': Value must be between 1 <= value <= ",
                                                   limits.max_n_cmpl));
  }
  out = static_cast<int32_t>(n);
  return absl::OkStatus();
}

// The options every completion endpoint shares (see http_api.h).
absl::Status ReadOptions(const json& obj, const RequestLimits& limits, CompletionRequest& r) {
  constexpr int64_t kMax32 = std::numeric_limits<int32_t>::max();
  const std::string_view n_predict_key =
      Find(obj, "n_predict") != nullptr ? "n_predict" : "max_tokens";
  TUNE_RETURN_IF_ERROR(ReadInt(obj, n_predict_key, -1, limits.max_n_predict, r.n_predict));
  TUNE_RETURN_IF_ERROR(ReadInt(obj, "n_indent", 0, kMax32, r.n_indent));
  if (const json* v = Find(obj, "t_max_predict_ms")) {
    TUNE_ASSIGN_OR_RETURN(int64_t ms, AsInteger(*v, "t_max_predict_ms"));
    r.t_max_predict_ms = std::max<int64_t>(ms, 0);
  }
  if (const json* v = Find(obj, "t_max_prompt_ms")) {  // accepted, not implemented (llama.cpp)
    TUNE_RETURN_IF_ERROR(AsInteger(*v, "t_max_prompt_ms").status());
  }
  TUNE_RETURN_IF_ERROR(ReadStop(obj, limits, r.stop));
  TUNE_RETURN_IF_ERROR(ReadBool(obj, "stream", r.stream));
  TUNE_RETURN_IF_ERROR(ReadBool(obj, "cache_prompt", r.cache_prompt));
  TUNE_RETURN_IF_ERROR(ReadInt(obj, "n_cache_reuse", -1, kMax32, r.n_cache_reuse));
  TUNE_RETURN_IF_ERROR(ReadInt(obj, "id_slot", -1, kMax32, r.id_slot));
  TUNE_RETURN_IF_ERROR(ReadCount(obj, "n_cmpl", limits, r.n_cmpl));
  TUNE_RETURN_IF_ERROR(ReadBool(obj, "return_tokens", r.return_tokens));
  TUNE_RETURN_IF_ERROR(ReadBool(obj, "ignore_eos", r.ignore_eos));
  TUNE_RETURN_IF_ERROR(ReadBool(obj, "single_line", r.single_line));

  SamplingParams& s = r.sampling;
  TUNE_RETURN_IF_ERROR(ReadFloat(obj, "temperature", s.temperature));
  TUNE_RETURN_IF_ERROR(ReadInt(obj, "top_k", std::numeric_limits<int32_t>::min(), kMax32, s.top_k));
  TUNE_RETURN_IF_ERROR(ReadFloat(obj, "top_p", s.top_p));
  TUNE_RETURN_IF_ERROR(ReadFloat(obj, "min_p", s.min_p));
  TUNE_RETURN_IF_ERROR(ReadFloat(obj, "repeat_penalty", s.repeat_penalty));
  TUNE_RETURN_IF_ERROR(ReadInt(obj, "repeat_last_n", -1, kMax32, s.repeat_last_n));
  TUNE_RETURN_IF_ERROR(ReadFloat(obj, "presence_penalty", s.presence_penalty));
  TUNE_RETURN_IF_ERROR(ReadFloat(obj, "frequency_penalty", s.frequency_penalty));
  if (const json* v = Find(obj, "seed")) {
    TUNE_ASSIGN_OR_RETURN(int64_t seed, AsIntegerIn(*v, "seed", -1, 0xFFFFFFFFll));
    // -1 and llama.cpp's LLAMA_DEFAULT_SEED (0xFFFFFFFF) both mean "random".
    if (seed == -1 || seed == 0xFFFFFFFFll) {
      s.seed.reset();
    } else {
      s.seed = static_cast<uint32_t>(seed);
    }
  }
  TUNE_RETURN_IF_ERROR(ReadSamplers(obj, s.samplers));

  if (const json* v = Find(obj, "lora")) {
    TUNE_ASSIGN_OR_RETURN(r.lora, AsLoraScales(*v, "lora"));
  }
  if (const json* v = Find(obj, "response_fields")) {
    TUNE_ASSIGN_OR_RETURN(r.response_fields, AsStringArray(*v, "response_fields"));
  }
  return absl::OkStatus();
}

// "prompt" of /completion and /v1/completions: string, token ids, or an array of one string.
absl::Status ReadPrompt(const json& obj, CompletionRequest& r) {
  const json* v = Find(obj, "prompt");
  if (v == nullptr) return absl::InvalidArgumentError("field \"prompt\" is required");
  if (v->is_string()) {
    r.kind = PromptKind::kText;
    r.prompt_text = v->get<std::string>();
    return absl::OkStatus();
  }
  if (v->is_array()) {
    if (v->size() == 1 && v->front().is_string()) {
      r.kind = PromptKind::kText;
      r.prompt_text = v->front().get<std::string>();
      return absl::OkStatus();
    }
    if (std::any_of(v->begin(), v->end(), [](const json& e) { return !e.is_number(); })) {
      return absl::InvalidArgumentError(
          "field \"prompt\" must be a string or an array of token ids (mixed prompts and several "
          "prompts per request are not supported)");
    }
    r.kind = PromptKind::kTokens;
    TUNE_ASSIGN_OR_RETURN(r.prompt_tokens, AsTokenArray(*v, "prompt"));
    return absl::OkStatus();
  }
  return TypeError("prompt", "a string or an array of token ids");
}

absl::Status ReadInputExtra(const json& obj, const RequestLimits& limits,
                            std::vector<ExtraChunk>& out) {
  const json* v = Find(obj, "input_extra");
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_array()) return absl::InvalidArgumentError(std::string(kExtraShape));
  if (v->size() > static_cast<size_t>(limits.max_extra_chunks)) {
    return absl::InvalidArgumentError(Cat("field \"input_extra\" has ", v->size(),
                                                   " chunks; at most ", limits.max_extra_chunks,
                                                   " allowed"));
  }
  out.clear();
  out.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    auto shape_error = [&](std::string_view what) {
      return absl::InvalidArgumentError(Cat(kExtraShape, "; entry ", i, " ", what));
    };
    if (!e.is_object()) return shape_error("is not an object");
    const json* text = Find(e, "text");
    if (text == nullptr || !text->is_string()) return shape_error("has no string \"text\"");
    ExtraChunk chunk;
    chunk.filename = "tmp";  // llama.cpp's default
    if (const json* name = Find(e, "filename")) {
      if (!name->is_string()) return shape_error("has a \"filename\" that is not a string");
      chunk.filename = name->get<std::string>();
    }
    chunk.text = text->get<std::string>();
    out.push_back(std::move(chunk));
  }
  return absl::OkStatus();
}

// float -> the double with the float's shortest decimal spelling (0.01f -> 0.01, not
// 0.009999999776482582), so settings echo back as the client wrote them.
double ShortFloat(float f) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  if (ec != std::errc()) return f;
  *end = '\0';
  return std::strtod(buf, nullptr);
}

std::string_view StopTypeName(StopType t) {
  switch (t) {
    case StopType::kNone: return "none";
    case StopType::kEos: return "eos";
    case StopType::kLimit: return "limit";
    case StopType::kWord: return "word";
  }
  return "none";
}

std::string_view FinishReason(StopType t) {
  return t == StopType::kEos || t == StopType::kWord ? "stop" : "length";
}

// a / b, or 0 when that is not a finite number (no tokens, no time).
double Ratio(double a, double b) {
  double r = b != 0 ? a / b : 0.0;
  return std::isfinite(r) ? r : 0.0;
}

json TimingsJson(const Timings& t) {
  json j{
      {"cache_n", t.cache_n},
      {"prompt_n", t.prompt_n},
      {"prompt_ms", t.prompt_ms},
      {"prompt_per_token_ms", Ratio(t.prompt_ms, t.prompt_n)},
      {"prompt_per_second", Ratio(1e3 * t.prompt_n, t.prompt_ms)},
      {"predicted_n", t.predicted_n},
      {"predicted_ms", t.predicted_ms},
      {"predicted_per_token_ms", Ratio(t.predicted_ms, t.predicted_n)},
      {"predicted_per_second", Ratio(1e3 * t.predicted_n, t.predicted_ms)},
  };
  if (t.retrieval_ms > 0 || t.retrieved_n > 0) {  // only from a server started with --index
    j["retrieved_n"] = t.retrieved_n;
    j["retrieval_ms"] = t.retrieval_ms;
  }
  return j;
}

json GenerationSettingsJson(const CompletionRequest& r) {
  const SamplingParams& s = r.sampling;
  std::vector<std::string> samplers = s.samplers;
  if (samplers.empty()) samplers = {"penalties", "top_k", "top_p", "min_p", "temperature"};
  json lora = json::array();
  if (r.lora) {
    for (const LoraScale& l : *r.lora) {
      lora.push_back({{"id", l.id}, {"scale", ShortFloat(l.scale)}});
    }
  }
  return json{
      {"n_predict", r.n_predict},
      {"seed", s.seed ? static_cast<int64_t>(*s.seed) : int64_t{0xFFFFFFFF}},
      {"temperature", ShortFloat(s.temperature)},
      {"top_k", s.top_k},
      {"top_p", ShortFloat(s.top_p)},
      {"min_p", ShortFloat(s.min_p)},
      {"repeat_last_n", s.repeat_last_n},
      {"repeat_penalty", ShortFloat(s.repeat_penalty)},
      {"presence_penalty", ShortFloat(s.presence_penalty)},
      {"frequency_penalty", ShortFloat(s.frequency_penalty)},
      {"stop", r.stop},
      {"max_tokens", r.n_predict},
      {"n_indent", r.n_indent},
      {"single_line", r.single_line},
      {"t_max_predict_ms", r.t_max_predict_ms},
      {"stream", r.stream},
      {"cache_prompt", r.cache_prompt},
      {"n_cache_reuse", r.n_cache_reuse},
      {"n_cmpl", r.n_cmpl},
      {"samplers", samplers},
      {"lora", lora},
  };
}

// llama.cpp's response_fields projection: each path "a/b/c" looked up through nested objects and
// stored at the root under the path itself.
json Project(const json& full, const std::vector<std::string>& paths) {
  json out = json::object();
  for (const std::string& path : paths) {
    const json* cur = &full;
    for (absl::string_view part : absl::StrSplit(path, '/')) {
      const std::string key(part.data(), part.size());
      if (!cur->is_object()) {
        cur = nullptr;
        break;
      }
      auto it = cur->find(key);
      if (it == cur->end()) {
        cur = nullptr;
        break;
      }
      cur = &*it;
    }
    if (cur != nullptr) out[path] = *cur;
  }
  return out;
}

std::vector<const CompletionResult*> ByIndex(const std::vector<CompletionResult>& results) {
  std::vector<const CompletionResult*> sorted;
  sorted.reserve(results.size());
  for (const CompletionResult& r : results) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const CompletionResult* a, const CompletionResult* b) {
                     return a->index < b->index;
                   });
  return sorted;
}

json UsageJson(int32_t prompt_tokens, int32_t completion_tokens) {
  return json{{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}};
}

json OpenAiEnvelope(std::string_view model_name, std::string_view id, int64_t created,
                    json choices) {
  return json{{"id", id},
              {"object", "text_completion"},
              {"created", created},
              {"model", model_name},
              {"choices", std::move(choices)}};
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

absl::StatusOr<CompletionRequest> ParseInfillRequest(std::string_view body,
                                                     const RequestLimits& limits) {
  TUNE_ASSIGN_OR_RETURN(json obj, ParseObjectBody(body));
  CompletionRequest r;
  r.kind = PromptKind::kInfill;
  TUNE_RETURN_IF_ERROR(ReadRequiredString(obj, "input_prefix", r.input_prefix));
  TUNE_RETURN_IF_ERROR(ReadRequiredString(obj, "input_suffix", r.input_suffix));
  TUNE_RETURN_IF_ERROR(ReadString(obj, "prompt", r.prompt_text));
  TUNE_RETURN_IF_ERROR(ReadString(obj, "filename", r.filename));  // tune extension
  TUNE_RETURN_IF_ERROR(ReadInputExtra(obj, limits, r.input_extra));
  TUNE_RETURN_IF_ERROR(ReadOptions(obj, limits, r));
  return r;
}

absl::StatusOr<CompletionRequest> ParseCompletionRequest(std::string_view body,
                                                         const RequestLimits& limits) {
  TUNE_ASSIGN_OR_RETURN(json obj, ParseObjectBody(body));
  CompletionRequest r;
  TUNE_RETURN_IF_ERROR(ReadPrompt(obj, r));
  TUNE_RETURN_IF_ERROR(ReadOptions(obj, limits, r));
  return r;
}

absl::StatusOr<CompletionRequest> ParseOpenAiCompletionRequest(std::string_view body,
                                                               const RequestLimits& limits) {
  TUNE_ASSIGN_OR_RETURN(json obj, ParseObjectBody(body));
  bool echo = false;
  TUNE_RETURN_IF_ERROR(ReadBool(obj, "echo", echo));
  if (echo) return absl::InvalidArgumentError("Only no echo is supported");
  if (const json* v = Find(obj, "best_of")) {
    TUNE_ASSIGN_OR_RETURN(int64_t best_of, AsInteger(*v, "best_of"));
    if (best_of != 1) return absl::InvalidArgumentError("Unsupported param: best_of");
  }
  CompletionRequest r;
  TUNE_RETURN_IF_ERROR(ReadPrompt(obj, r));
  std::string suffix;
  TUNE_RETURN_IF_ERROR(ReadString(obj, "suffix", suffix));
  if (!suffix.empty()) {
    if (r.kind != PromptKind::kText) {
      return absl::InvalidArgumentError(
          "field \"prompt\" must be a string when \"suffix\" is given");
    }
    r.kind = PromptKind::kInfill;
    r.input_prefix = std::move(r.prompt_text);
    r.prompt_text.clear();
    r.input_suffix = std::move(suffix);
  }
  TUNE_RETURN_IF_ERROR(ReadOptions(obj, limits, r));
  if (Find(obj, "n_cmpl") == nullptr) TUNE_RETURN_IF_ERROR(ReadCount(obj, "n", limits, r.n_cmpl));
  return r;
}

absl::StatusOr<TokenizeRequest> ParseTokenizeRequest(std::string_view body) {
  TUNE_ASSIGN_OR_RETURN(json obj, ParseObjectBody(body));
  TokenizeRequest r;
  TUNE_RETURN_IF_ERROR(ReadString(obj, "content", r.content));
  TUNE_RETURN_IF_ERROR(ReadBool(obj, "add_special", r.add_special));
  TUNE_RETURN_IF_ERROR(ReadBool(obj, "parse_special", r.parse_special));
  TUNE_RETURN_IF_ERROR(ReadBool(obj, "with_pieces", r.with_pieces));
  return r;
}

absl::StatusOr<DetokenizeRequest> ParseDetokenizeRequest(std::string_view body) {
  TUNE_ASSIGN_OR_RETURN(json obj, ParseObjectBody(body));
  DetokenizeRequest r;
  if (const json* v = Find(obj, "tokens")) {
    TUNE_ASSIGN_OR_RETURN(r.tokens, AsTokenArray(*v, "tokens"));
  }
  return r;
}

absl::StatusOr<std::vector<LoraScale>> ParseLoraScales(std::string_view body) {
  TUNE_ASSIGN_OR_RETURN(json j, ParseBody(body));
  return AsLoraScales(j, "lora");
}

json CompletionResultJson(const CompletionResult& result, const CompletionRequest& request,
                          std::string_view model_name) {
  json full = {
      {"index", result.index},
      {"content", request.stream ? std::string() : result.content},
      {"tokens", request.stream ? std::vector<int32_t>() : result.tokens},
      {"id_slot", result.id_slot},
      {"stop", true},
      {"model", model_name},
      {"tokens_predicted", result.tokens_predicted},
      {"tokens_evaluated", result.tokens_evaluated},
      {"generation_settings", GenerationSettingsJson(request)},
      {"prompt", result.prompt},
      {"has_new_line", result.has_new_line},
      {"truncated", result.truncated},
      {"stop_type", StopTypeName(result.stop_type)},
      {"stopping_word", result.stopping_word},
      {"tokens_cached", result.tokens_cached},
      {"timings", TimingsJson(result.timings)},
  };
  if (request.response_fields.empty()) return full;
  return Project(full, request.response_fields);
}

json CompletionResponseJson(const std::vector<CompletionResult>& results,
                            const CompletionRequest& request, std::string_view model_name) {
  if (results.size() == 1) return CompletionResultJson(results[0], request, model_name);
  json out = json::array();
  for (const CompletionResult* r : ByIndex(results)) {
    out.push_back(CompletionResultJson(*r, request, model_name));
  }
  return out;
}

json PartialResultJson(const PartialResult& partial) {
  return json{
      {"index", partial.index},
      {"content", partial.content},
      {"tokens", partial.tokens},
      {"stop", false},
      {"id_slot", partial.id_slot},
      {"tokens_predicted", partial.tokens_predicted},
      {"tokens_evaluated", partial.tokens_evaluated},
  };
}

json OpenAiCompletionJson(const std::vector<CompletionResult>& results,
                          std::string_view model_name, std::string_view id, int64_t created) {
  json choices = json::array();
  int32_t completion_tokens = 0;
  for (const CompletionResult* r : ByIndex(results)) {
    choices.push_back({{"text", r->content},
                       {"index", r->index},
                       {"logprobs", nullptr},
                       {"finish_reason", FinishReason(r->stop_type)}});
    completion_tokens += r->tokens_predicted;
  }
  json out = OpenAiEnvelope(model_name, id, created, std::move(choices));
  const int32_t prompt_tokens = results.empty() ? 0 : results.front().tokens_evaluated;
  out["usage"] = UsageJson(prompt_tokens, completion_tokens);
  out["timings"] = TimingsJson(results.empty() ? Timings() : ByIndex(results).front()->timings);
  return out;
}

json OpenAiChunkJson(const PartialResult& partial, std::string_view model_name,
                     std::string_view id, int64_t created) {
  json choice = {{"text", partial.content},
                 {"index", partial.index},
                 {"logprobs", nullptr},
                 {"finish_reason", nullptr}};
  return OpenAiEnvelope(model_name, id, created, json::array({std::move(choice)}));
}

json OpenAiChunkJson(const CompletionResult& result, std::string_view model_name,
                     std::string_view id, int64_t created) {
  json choice = {{"text", ""},
                 {"index", result.index},
                 {"logprobs", nullptr},
                 {"finish_reason", FinishReason(result.stop_type)}};
  json out = OpenAiEnvelope(model_name, id, created, json::array({std::move(choice)}));
  out["usage"] = UsageJson(result.tokens_evaluated, result.tokens_predicted);
  out["timings"] = TimingsJson(result.timings);
  return out;
}

json TokenizeResponseJson(const std::vector<int32_t>& tokens,
                          const std::vector<std::string>& pieces) {
  json list = json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (pieces.empty()) {
      list.push_back(tokens[i]);
      continue;
    }
    const std::string piece = i < pieces.size() ? pieces[i] : std::string();
    json p;
    if (IsValidUtf8(piece)) {
      p = piece;
    } else {
      p = json::array();
      for (char c : piece) p.push_back(static_cast<int>(static_cast<unsigned char>(c)));
    }
    list.push_back({{"id", tokens[i]}, {"piece", std::move(p)}});
  }
  return json{{"tokens", std::move(list)}};
}

json ErrorJson(int http_code, std::string_view message) {
  std::string_view type;
  switch (http_code) {
    case 401: type = "authentication_error"; break;
    case 403: type = "permission_error"; break;
    case 404: type = "not_found_error"; break;
    case 501: type = "not_supported_error"; break;
    case 503: type = "unavailable_error"; break;
    default: type = http_code >= 500 ? "server_error" : "invalid_request_error";
  }
  return json{{"error", {{"code", http_code}, {"message", message}, {"type", type}}}};
}

json ErrorJson(const absl::Status& status) {
  const absl::string_view message = status.message();
  return ErrorJson(HttpCodeFor(status), std::string_view(message.data(), message.size()));
}

int HttpCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted: return 503;
    default: return 500;
  }
}

std::string DumpJson(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string SseEvent(const json& j, std::string_view field) {
  return Cat(field, ": ", DumpJson(j), "\n\n");
}

}  // namespace tune::inference
