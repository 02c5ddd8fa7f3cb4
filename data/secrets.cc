#include "data/secrets.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <regex>

#include "absl/container/flat_hash_map.h"
#include "data/internal/text.h"

namespace tune::data {
namespace {

struct Rule {
  std::string id;
  std::vector<std::string> keywords;  // lower-case; the regex runs only on lines with one
  std::regex pattern;
  int group;           // capture group that is the secret
  double min_entropy;  // of the captured text; 0 = no gate
  std::string_view placeholder;
  // A cheap necessary condition for a match on a line, checked before the regex; null: none.
  bool (*line_filter)(std::string_view line) = nullptr;
};

constexpr std::string_view kKey = "<KEY>";
constexpr std::string_view kPassword = "<PASSWORD>";
constexpr std::string_view kPrivateKey = "<PRIVATE_KEY>";

bool IsGenericValueChar(unsigned char c) {
  return internal::IsAsciiAlnum(c) || c == '_' || c == '.' || c == '=' || c == '-' || c == '+' ||
         c == '/';
}

// A generic-api-key value is a run of [\w.=+/-] that passes the 3.5-bit entropy gate (so at
// least 12 characters: log2(11) < 3.5) and is not an identifier path (so it holds a digit or one
// of =-+/). Most lines with "key" or "token" in code have no such run and skip the regex.
bool MayHoldGenericValue(std::string_view line) {
  size_t run = 0;
  bool non_identifier = false;
  for (unsigned char c : line) {
    if (!IsGenericValueChar(c)) {
      run = 0;
      non_identifier = false;
      continue;
    }
    ++run;
    non_identifier |= !internal::IsAsciiAlpha(c) && c != '_' && c != '.';
    if (run >= 12 && non_identifier) return true;
  }
  return false;
}

std::vector<Rule> MakeRules() {
  auto re = [](const char* p, bool icase = false) {
    auto flags = std::regex::ECMAScript | std::regex::optimize;
    if (icase) flags |= std::regex::icase;
    return std::regex(p, flags);
  };
  // Value terminator shared by the gitleaks rules: (?:[\x60'"\s;]|\\[nr]|$)
  std::vector<Rule> rules;
  rules.push_back({"aws-access-token",
                   {"a3t", "akia", "asia", "abia", "acca"},
                   re(R"(\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b)"),
                   1,
                   3,
                   kKey});
  rules.push_back({"github-pat", {"ghp_"}, re(R"((ghp_[0-9a-zA-Z]{36}))"), 1, 3, kKey});
  rules.push_back(
      {"github-fine-grained-pat", {"github_pat_"}, re(R"((github_pat_\w{82}))"), 1, 3, kKey});
  rules.push_back({"github-oauth",
                   {"gho_", "ghu_", "ghs_", "ghr_"},
                   re(R"(((?:gho|ghu|ghs|ghr)_[0-9a-zA-Z]{36}))"),
                   1,
                   3,
                   kKey});
  rules.push_back({"gitlab-pat", {"glpat-"}, re(R"((glpat-[\w-]{20}))"), 1, 3, kKey});
  rules.push_back(
      {"gcp-api-key", {"aiza"}, re(R"(\b(AIza[\w-]{35})(?:[`'"\s;]|\\[nr]|$))"), 1, 4, kKey});
  rules.push_back(
      {"slack-token", {"xox"}, re(R"((xox[baprse]-[0-9]{10,13}-[0-9a-zA-Z-]{10,}))"), 1, 3, kKey});
  rules.push_back(
      {"jwt",
       {"eyj"},
       re(R"(\b(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/\\_-]{17,}\.(?:[a-zA-Z0-9/\\_-]{10,}={0,2})?))"),
       1,
       3,
       kKey});
  rules.push_back(
      {"openai-api-key",
       {"t3blbkfj"},
       re(R"((sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[a-zA-Z0-9]{20})T3BlbkFJ[A-Za-z0-9_-]{20,}))"),
       1,
       3,
       kKey});
  rules.push_back({"anthropic-api-key",
                   {"sk-ant-"},
                   re(R"((sk-ant-(?:api|admin)\d{2}-[\w-]{80,}))"),
                   1,
                   0,
                   kKey});
  rules.push_back({"stripe-access-token",
                   {"sk_", "rk_"},
                   re(R"(\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}))"),
                   1,
                   2,
                   kKey});
  rules.push_back({"npm-access-token", {"npm_"}, re(R"(\b(npm_[a-z0-9]{36}))", true), 1, 2, kKey});
  // scheme://user:password@host
  rules.push_back({"url-password",
                   {"://"},
                   re(R"([a-z][a-z0-9+.-]*://[^/\s:@'"]{1,100}:([^/\s:@'"]{3,200})@)", true),
                   1,
                   0,
                   kPassword});
  // password = "literal" (any quoted literal of 6+ characters after a password-like name), also
  // inside an escaped string literal: "password = \"...\"".
  rules.push_back(
      {"password-assignment",
       {"passw", "pwd"},
       re(R"((?:passw(?:or)?d|pwd)\w*\\?['"]?\s*(?::=|=>|[:=])\s*\\?(['"])([^'"\s\\]{6,200})\\?\1)",
          true),
       2,
       0,
       kPassword});
  // gitleaks generic-api-key (value group 1), entropy >= 3.5; backslashes are accepted around
  // the operator so that assignments inside escaped string literals are caught too.
  rules.push_back(
      {"generic-api-key",
       {"access", "api", "auth", "key", "credential", "creds", "passwd", "password", "secret",
        "token"},
       re(R"((?:access|auth|api|credential|creds|key|passw(?:or)?d|secret|token)(?:[ \t\w.-]{0,20})[\s'"\\]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[`'"\s=\\]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[`'"\s;\\]|$))",
          true),
       1,
       3.5,
       kKey,
       MayHoldGenericValue});
  return rules;
}

const std::vector<Rule>& Rules() {
  static const std::vector<Rule> rules = MakeRules();
  return rules;
}

// gitleaks' global allowlist of values that are templates or placeholders, not secrets.
bool IsAllowlistedValue(std::string_view v) {
  std::string lower = internal::ToLower(v);
  if (lower == "true" || lower == "false" || lower == "null" || lower == "none") return true;
  if (v.find("${") != std::string_view::npos || v.find("{{") != std::string_view::npos ||
      (v.size() > 1 && v.front() == '$') || (v.size() > 2 && v.front() == '%' && v.back() == '%')) {
    return true;
  }
  // Obvious dummies in tests and docs.
  for (std::string_view dummy : {"example", "changeme", "xxxxxx", "placeholder", "your_", "<"}) {
    if (internal::Contains(lower, dummy)) return true;
  }
  return false;
}

// A value that is a dotted/underscored identifier (self.api_key, os.environ) is code, not a key.
bool LooksLikeIdentifierPath(std::string_view v) {
  return std::all_of(v.begin(), v.end(),
                     [](unsigned char c) { return std::isalpha(c) || c == '_' || c == '.'; });
}

void FindPrivateKeys(std::string_view text, std::vector<Redaction>& out, uint16_t rule) {
  size_t pos = 0;
  while ((pos = text.find("-----BEGIN", pos)) != std::string_view::npos) {
    size_t header_end = text.find("-----", pos + 10);
    if (header_end == std::string_view::npos || header_end - pos > 110) {
      pos += 10;
      continue;
    }
    std::string_view header = text.substr(pos, header_end - pos);
    if (!internal::Contains(header, "PRIVATE KEY")) {
      pos = header_end;
      continue;
    }
    size_t end_marker = text.find("-----END", header_end + 5);
    size_t end = end_marker == std::string_view::npos ? std::string_view::npos
                                                      : text.find("-----", end_marker + 8);
    // An unterminated block is redacted to the end of the text: never leak half a key.
    end = end == std::string_view::npos ? text.size() : end + 5;
    out.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(end), rule});
    pos = end;
  }
}

}  // namespace

const std::vector<std::string>& SecretRuleIds() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> v = {"private-key"};
    for (const Rule& r : Rules()) v.push_back(r.id);
    return v;
  }();
  return ids;
}

std::string_view SecretRulesVersion() { return "gitleaks-8.30-port.1"; }

double ShannonEntropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<int, 256> counts{};
  for (unsigned char c : s) ++counts[c];
  double h = 0;
  for (int c : counts) {
    if (c == 0) continue;
    double p = static_cast<double>(c) / static_cast<double>(s.size());
    h -= p * std::log2(p);
  }
  return h;
}

namespace {

// Every keyword of every rule, found in one pass over the text: candidates are positions whose
// two lower-cased bytes start some keyword (all keywords have at least three bytes).
class KeywordScanner {
 public:
  explicit KeywordScanner(const std::vector<Rule>& rules) {
    for (size_t r = 0; r < rules.size(); ++r) {
      for (const std::string& k : rules[r].keywords) {
        uint16_t key = Pair(k[0], k[1]);
        starts_[key / 64] |= uint64_t{1} << (key % 64);
        by_start_[key].push_back({k, static_cast<uint16_t>(r)});
      }
    }
  }

  // [start, end) of the lines holding a keyword of each rule, in order, without repeats.
  std::vector<std::vector<std::pair<size_t, size_t>>> CandidateLines(std::string_view text,
                                                                     size_t rules) const {
    std::vector<std::vector<std::pair<size_t, size_t>>> lines(rules);
    size_t line_start = 0, line_end = 0;  // line_end valid once past line_start
    for (size_t i = 0; i + 1 < text.size(); ++i) {
      if (text[i] == '\n') {
        line_start = i + 1;
        continue;
      }
      uint16_t key = Pair(text[i], text[i + 1]);
      if (!(starts_[key / 64] >> (key % 64) & 1)) continue;
      for (const auto& [keyword, rule] : by_start_.at(key)) {
        if (!MatchesLower(text.substr(i), keyword)) continue;
        if (line_end <= line_start) {
          line_end = text.find('\n', i);
          if (line_end == std::string_view::npos) line_end = text.size();
        }
        auto& out = lines[rule];
        if (out.empty() || out.back().first != line_start) out.emplace_back(line_start, line_end);
      }
    }
    return lines;
  }

 private:
  static uint16_t Pair(char a, char b) {
    return static_cast<uint16_t>(static_cast<unsigned char>(internal::ToLowerAscii(a)) << 8 |
                                 static_cast<unsigned char>(internal::ToLowerAscii(b)));
  }
  static bool MatchesLower(std::string_view text, std::string_view keyword) {
    if (text.size() < keyword.size()) return false;
    for (size_t k = 0; k < keyword.size(); ++k) {
      if (internal::ToLowerAscii(text[k]) != keyword[k]) return false;
    }
    return true;
  }

  std::array<uint64_t, 1024> starts_{};  // bit per two-byte keyword start
  absl::flat_hash_map<uint16_t, std::vector<std::pair<std::string, uint16_t>>> by_start_;
};

std::vector<Redaction> Find(std::string_view text, bool line_filters) {
  std::vector<Redaction> found;
  FindPrivateKeys(text, found, 0);
  const std::vector<Rule>& rules = Rules();
  static const KeywordScanner scanner(rules);
  const auto candidates = scanner.CandidateLines(text, rules.size());
  for (size_t r = 0; r < rules.size(); ++r) {
    const Rule& rule = rules[r];
    for (const auto& [line_start, line_end] : candidates[r]) {
      std::string_view line = text.substr(line_start, line_end - line_start);
      if (line_filters && rule.line_filter != nullptr && !rule.line_filter(line)) continue;
      for (std::cregex_iterator it(line.data(), line.data() + line.size(), rule.pattern), end;
           it != end; ++it) {
        const auto& m = (*it)[rule.group];
        if (!m.matched) continue;
        std::string_view value(m.first, static_cast<size_t>(m.length()));
        if (IsAllowlistedValue(value)) continue;
        if (rule.min_entropy > 0 && ShannonEntropy(value) < rule.min_entropy) continue;
        if (rule.id == "generic-api-key" && LooksLikeIdentifierPath(value)) continue;
        auto begin = static_cast<uint32_t>(line_start + (m.first - line.data()));
        found.push_back(
            {begin, begin + static_cast<uint32_t>(value.size()), static_cast<uint16_t>(r + 1)});
      }
    }
  }
  // Sort and merge overlaps (a token can match a provider rule and the generic one).
  std::sort(found.begin(), found.end(),
            [](const Redaction& a, const Redaction& b) { return a.begin < b.begin; });
  std::vector<Redaction> merged;
  for (const Redaction& r : found) {
    if (!merged.empty() && r.begin < merged.back().end) {
      merged.back().end = std::max(merged.back().end, r.end);
      continue;
    }
    merged.push_back(r);
  }
  return merged;
}

}  // namespace

std::vector<Redaction> FindSecrets(std::string_view text) { return Find(text, true); }

std::vector<Redaction> FindSecretsWithoutLineFilters(std::string_view text) {
  return Find(text, false);
}

std::string ApplyRedactions(std::string_view text, const std::vector<Redaction>& redactions) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const Redaction& r : redactions) {
    out.append(text.substr(pos, r.begin - pos));
    out.append(r.rule == 0 ? kPrivateKey : Rules()[r.rule - 1].placeholder);
    pos = r.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace tune::data
