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

TEST(TermsTest, LastAndFirstLines) {
  EXPECT_EQ(LastLines("a\nb\nc\nd", 2), "c\nd");
  EXPECT_EQ(LastLines("a\nb\nc\n", 2), "c\n");
  EXPECT_EQ(LastLines("a\nb", 5), "a\nb");
  EXPECT_EQ(FirstLines("a\nb\nc", 2), "a\nb");
  EXPECT_EQ(FirstLines("a\nb", 5), "a\nb");
  EXPECT_EQ(LastLines("", 3), "");
  EXPECT_EQ(FirstLines("", 3), "");
}

}  // namespace
}  // namespace tune::retrieval
