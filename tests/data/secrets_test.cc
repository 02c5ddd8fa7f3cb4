#include "data/secrets.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace tune::data {
namespace {

// Planted secrets (fabricated values of the right shape). Each must vanish after redaction.
struct Planted {
  std::string rule;
  std::string line;
  std::string secret;
};

std::vector<Planted> PlantedSecrets() {
  return {
      {"aws-access-token", "aws_id = \"AKIAZ7QW3ERTY5UIOP2L\"\n", "AKIAZ7QW3ERTY5UIOP2L"},
      {"github-pat", "TOKEN = 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5Q'\n",
       "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5Q"},
      {"gitlab-pat", "gl = glpat-Xy7Zq9Wk2Lm4Np6Rt8Vb\n", "glpat-Xy7Zq9Wk2Lm4Np6Rt8Vb"},
      {"slack-token", "hook('xoxb-1234567890-9876543210-AbCdEfGhIjKlMnOp')\n",
       "xoxb-1234567890-9876543210-AbCdEfGhIjKlMnOp"},
      {"stripe-access-token", "stripe.key = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"\n",
       "sk_live_4eC39HqLyjWDarjtT1zdp7dc"},
      {"url-password", "DB = \"postgres://admin:Tr0ub4dor-3@db.internal:5432/app\"\n",
       "Tr0ub4dor-3"},
      {"password-assignment", "password = \"S3cr3t-Passw0rd-2024!\"\n", "S3cr3t-Passw0rd-2024!"},
      {"generic-api-key", "api_key = \"9fX2kLq8RzT4vWm7NpB3cYd6\"\n", "9fX2kLq8RzT4vWm7NpB3cYd6"},
      {"jwt",
       "auth = "
       "'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'\n",
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"},
  };
}

TEST(SecretsTest, EveryPlantedSecretIsRedactedByItsRule) {
  for (const Planted& p : PlantedSecrets()) {
    std::vector<Redaction> found = FindSecrets(p.line);
    ASSERT_FALSE(found.empty()) << p.rule;
    std::string redacted = ApplyRedactions(p.line, found);
    EXPECT_EQ(redacted.find(p.secret), std::string::npos) << p.rule << ": " << redacted;
    bool rule_hit = false;
    for (const Redaction& r : found)
      rule_hit |= SecretRuleIds()[r.rule] == p.rule || SecretRuleIds()[r.rule] == "generic-api-key";
    EXPECT_TRUE(rule_hit) << p.rule;
  }
}

TEST(SecretsTest, PrivateKeyBlockBecomesOnePlaceholder) {
  std::string text =
      "key = '''\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq98r2yZbN0p6r3\n"
      "q9w8e7r6t5y4u3i2o1pAAAAB3NzaC1yc2EAAAADAQABAAABAQ==\n-----END RSA PRIVATE KEY-----\n'''\n";
  std::vector<Redaction> found = FindSecrets(text);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(SecretRuleIds()[found[0].rule], "private-key");
  EXPECT_EQ(ApplyRedactions(text, found), "key = '''\n<PRIVATE_KEY>\n'''\n");
}

TEST(SecretsTest, FindsAssignmentsInsideEscapedStringLiterals) {
  // Source that embeds config text as an escaped literal, e.g. a test fixture in C++.
  std::string line =
      "  cfg(\"password = \\\"Hunter2-Hunter2\\\"\"); "
      "auth(\"token=\\\"9fX2kLq8RzT4vWm7NpB3\\\"\");\n";
  std::string redacted = ApplyRedactions(line, FindSecrets(line));
  EXPECT_EQ(redacted.find("Hunter2-Hunter2"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("9fX2kLq8RzT4vWm7NpB3"), std::string::npos) << redacted;
}

TEST(SecretsTest, LeavesOrdinaryCodeAlone) {
  const char* code =
      "def get_token(self):\n"
      "    token = self.session.token\n"
      "    password = os.environ['DB_PASSWORD']\n"
      "    api_key = config.get('api_key')\n"
      "    secret = \"${SECRET}\"\n"
      "    key = 'changeme-example'\n"
      "    return token_for(key)\n";
  EXPECT_TRUE(FindSecrets(code).empty()) << ApplyRedactions(code, FindSecrets(code));
}

TEST(SecretsTest, EntropyGateRejectsLowEntropyValues) {
  EXPECT_TRUE(FindSecrets("token = \"aaaaaaaaaaaaaaaa\"\n").empty());
  EXPECT_LT(ShannonEntropy("aaaaaaaa"), 0.01);
  EXPECT_NEAR(ShannonEntropy("abcd"), 2.0, 1e-9);
}

bool SameRedactions(const std::vector<Redaction>& a, const std::vector<Redaction>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].begin != b[i].begin || a[i].end != b[i].end || a[i].rule != b[i].rule) return false;
  }
  return true;
}

// The cheap line filters in front of the regexes must never lose a match: random assignment
// lines (names with and without keywords, every operator, quoted and bare values of every
// alphabet and length around the gates), scanned both ways, give the same redactions.
TEST(SecretsTest, LineFiltersNeverLoseAMatch) {
  std::mt19937 rng(7);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  const std::vector<std::string> names = {"api_key", "TOKEN", "self.auth", "secretValue",
                                          "credential", "x_access", "name", "Key", "passwd",
                                          "db.password", "creds"};
  const std::vector<std::string> ops = {" = ", "=", ": ", " := ", " => ", " ||", ",", "?=", ">"};
  const std::vector<std::string> quotes = {"\"", "'", "`", "", "\\\""};
  const std::vector<std::string> alphabets = {
      "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.",
      "0123456789abcdef", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=+/.",
      "ab1"};
  std::string text;
  for (int i = 0; i < 4000; ++i) {
    std::string alphabet = pick(alphabets);
    std::string value;
    size_t length = 6 + rng() % 20;
    for (size_t k = 0; k < length; ++k) value += alphabet[rng() % alphabet.size()];
    std::string quote = pick(quotes);
    text += "  " + pick(names) + pick(ops) + quote + value + quote + (rng() % 3 ? ";" : "") + "\n";
  }
  std::vector<Redaction> filtered = FindSecrets(text);
  EXPECT_GT(filtered.size(), 100u);  // the corpus does hold secrets
  EXPECT_TRUE(SameRedactions(filtered, FindSecretsWithoutLineFilters(text)));
}

}  // namespace
}  // namespace tune::data
