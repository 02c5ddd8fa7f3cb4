#include "retrieval/terms.h"

#include <gtest/gtest.h>

namespace tune::retrieval {
namespace {

TEST(TermsTest, IdentifiersSkipNumbersSingleLettersAndPartsOfWords) {
  EXPECT_EQ(Identifiers("x = parse_money(a1, 42, _tmp) + 3e5;"),
            (std::vector<std::string_view>{"parse_money", "a1", "_tmp"}));
  EXPECT_TRUE(Identifiers("").empty());
  EXPECT_TRUE(Identifiers("1 + 2 * (3)").empty());
}

TEST(TermsTest, TermsAreLowercasedIdentifiersAndTheirParts) {
  EXPECT_EQ(Terms("parseHTTPRequest(total_cents)"),
            (std::vector<std::string>{"parsehttprequest", "parse", "http", "request", "total_cents", "total",
                                      "cents"}));
  // One-letter parts are dropped; a single-part identifier appears once.
  EXPECT_EQ(Terms("get_x Money"), (std::vector<std::string>{"get_x", "get", "money"}));
}

TEST(TermsTest, QueryTextIsTheLinesAroundTheCursor) {
  std::string prefix, suffix;
  for (int i = 0; i < 100; ++i) prefix += "p" + std::to_string(i) + "\n";
  prefix += "cursor_line";
  for (int i = 0; i < 100; ++i) suffix += "s" + std::to_string(i) + "\n";
  const std::string q = QueryText(prefix, suffix);
  EXPECT_EQ(q.find("p79\n"), std::string::npos);
  EXPECT_EQ(q.rfind("p80\n", 0), 0u) << q.substr(0, 20);  // the last 20 full lines, then the cursor line
  EXPECT_NE(q.find("p99\ncursor_lines0\n"), std::string::npos);
  EXPECT_NE(q.find("s3\ns4"), std::string::npos);
  EXPECT_EQ(q.find("s5"), std::string::npos);
  EXPECT_EQ(QueryText("", ""), "");
  EXPECT_EQ(QueryText("a\nb", "c"), "a\nbc");
}

}  // namespace
}  // namespace tune::retrieval
