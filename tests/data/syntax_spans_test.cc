#include "data/syntax_spans.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tune::data {
namespace {

struct Case {
  std::string language;
  std::string code;
  std::string call;       // an expected expression span
  std::string arguments;  // an expected argument-list span
};

std::set<std::string> SpanTexts(const std::string& language, const std::string& code) {
  auto spans = FindSyntaxSpans(language, code, 1, 10000);
  EXPECT_TRUE(spans.ok()) << spans.status();
  std::set<std::string> texts;
  if (!spans.ok()) return texts;
  for (const SyntaxSpan& s : *spans) {
    EXPECT_LT(s.begin, s.end);
    EXPECT_LE(s.end, code.size());
    texts.insert(code.substr(s.begin, s.end - s.begin));
  }
  return texts;
}

TEST(SyntaxSpansTest, EveryGrammarYieldsCallsAndArgumentLists) {
  std::vector<Case> cases = {
      {"python", "def add(a, b):\n    return helper(a, b)\n", "helper(a, b)", "(a, b)"},
      {"javascript", "function add(a, b) {\n  return helper(a, b);\n}\n", "helper(a, b)", "(a, b)"},
      {"typescript", "function add(a: number, b: number): number {\n  return helper(a, b);\n}\n",
       "helper(a, b)", "(a, b)"},
      {"c", "int add(int a, int b) {\n  return helper(a, b);\n}\n", "helper(a, b)", "(a, b)"},
      {"cpp", "int add(int a, int b) {\n  return std::max(a, b);\n}\n", "std::max(a, b)", "(a, b)"},
      {"go", "package m\nfunc add(a int, b int) int {\n\treturn helper(a, b)\n}\n", "helper(a, b)",
       "(a, b)"},
      {"rust", "fn add(a: i32, b: i32) -> i32 {\n    helper(a, b)\n}\n", "helper(a, b)", "(a, b)"},
      {"java", "class M {\n  int add(int a, int b) {\n    return helper(a, b);\n  }\n}\n",
       "helper(a, b)", "(a, b)"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(HasGrammar(c.language)) << c.language;
    std::set<std::string> texts = SpanTexts(c.language, c.code);
    EXPECT_TRUE(texts.count(c.call)) << c.language;
    EXPECT_TRUE(texts.count(c.arguments)) << c.language;
  }
}

TEST(SyntaxSpansTest, BlocksStatementsAndSizeLimits) {
  std::string code = "def f(x):\n    y = g(x)\n    return y\n";
  std::set<std::string> texts = SpanTexts("python", code);
  EXPECT_TRUE(texts.count("y = g(x)\n    return y"));  // function body block
  EXPECT_TRUE(texts.count("return y"));
  EXPECT_TRUE(texts.count(code.substr(0, code.size() - 1)));  // the whole function
  auto small = FindSyntaxSpans("python", code, 1, 6);
  ASSERT_TRUE(small.ok());
  for (const SyntaxSpan& s : *small) EXPECT_LE(s.end - s.begin, 6u);
}

TEST(SyntaxSpansTest, ParseErrorsAreSkippedAndUnknownLanguagesRefused) {
  std::string code = "def ok(x):\n    return g(x)\n\ndef broken(:\n    return h(\n";
  std::set<std::string> texts = SpanTexts("python", code);
  EXPECT_TRUE(texts.count("g(x)"));
  for (const std::string& t : texts) EXPECT_EQ(t.find("broken"), std::string::npos) << t;
  EXPECT_EQ(FindSyntaxSpans("cobol", "x", 1, 10).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(HasGrammar("cobol"));
}

}  // namespace
}  // namespace tune::data
