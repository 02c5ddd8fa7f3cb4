#include "tests/tokenizer/cases.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/file.h"

namespace tune::tokenizer {

std::vector<Case> LoadCases(const std::filesystem::path& path) {
  auto text = core::ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status();
  if (!text.ok()) return {};
  const nlohmann::json json = nlohmann::json::parse(*text);
  std::vector<Case> cases;
  for (const auto& c : json.at("cases")) {
    cases.push_back({c["text"].get<std::string>(), c["ids"].get<std::vector<int32_t>>(),
                     c["decoded"].get<std::string>()});
  }
  return cases;
}

void ExpectCasesExact(const Tokenizer& tok, const std::vector<Case>& cases) {
  ASSERT_FALSE(cases.empty());
  int failures = 0;
  for (const Case& c : cases) {
    const std::vector<int32_t> ids = tok.Encode(c.text, /*parse_special=*/true);
    EXPECT_EQ(ids, c.ids) << "text: " << ::testing::PrintToString(c.text.substr(0, 200));
    EXPECT_EQ(tok.Decode(c.ids), c.decoded)
        << "text: " << ::testing::PrintToString(c.text.substr(0, 200));
    if (ids != c.ids && ++failures > 5) break;  // the first few are enough to debug
  }
}

}  // namespace tune::tokenizer
