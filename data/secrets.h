// Secret redaction before tokenization. The rules are a port of gitleaks v8.30 defaults (the
// high-value provider tokens, private keys, the generic-api-key rule with its 3.5 entropy gate)
// plus passwords in URLs and password assignments; docs/ingest.md lists them. A match is
// replaced by a fixed placeholder (<PRIVATE_KEY>, <KEY>, <PASSWORD>) so the model learns that
// a secret goes there without ever seeing one. Matched text is never returned or logged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tune::data {

// One redacted byte range of the original text.
struct Redaction {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint16_t rule = 0;  // index into SecretRuleIds()
};

// Ids of the rules ("private-key", "aws-access-token", ...), indexed by Redaction::rule.
const std::vector<std::string>& SecretRuleIds();
// Version of the rule set; part of the cache key, so changing a rule re-scans every blob.
std::string_view SecretRulesVersion();

// Finds the secrets in `text`: sorted, non-overlapping ranges.
std::vector<Redaction> FindSecrets(std::string_view text);
// The same with every regex run on every line holding its rule's keyword (no cheap line
// filters in front): slower; for tests that the filters never lose a match.
std::vector<Redaction> FindSecretsWithoutLineFilters(std::string_view text);

// `text` with every range replaced by its rule's placeholder.
std::string ApplyRedactions(std::string_view text, const std::vector<Redaction>& redactions);

// Shannon entropy in bits per character (gitleaks' measure).
double ShannonEntropy(std::string_view s);

}  // namespace tune::data
