// The Llama-3, GPT-2 and StarCoder pre-tokenizers against Hugging Face ids, on small synthetic
// tokenizers (testdata/README.md) with the reference texts plus regex edge cases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"
#include "tests/tokenizer/cases.h"
#include "tests/tokenizer/fim_expectations.h"
#include "tokenizer/tokenizer.h"

namespace tune::tokenizer {
namespace {

std::filesystem::path TestData(const std::string& name) {
  return tune::testing::SourcePath("tests/tokenizer/testdata/" + name);
}

class SyntheticCasesTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SyntheticCasesTest, EveryCaseExactAndRebuildable) {
  auto tok = Tokenizer::Load(TestData(GetParam()));
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::vector<Case> cases = LoadCases(TestData(GetParam()) / "cases.json");
  ASSERT_GT(cases.size(), 120u);
  ExpectCasesExact(**tok, cases);
  auto rebuilt = Tokenizer::FromVocab((*tok)->vocab());
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  ExpectCasesExact(**rebuilt, cases);
}

INSTANTIATE_TEST_SUITE_P(PreTokenizers, SyntheticCasesTest,
                         ::testing::Values("llama3", "gpt2", "starcoder", "deepseek-coder",
                                           "gemma"));

TEST(SyntheticCases, PreTokenizerNamesAndFamilyTokens) {
  auto llama3 = Tokenizer::Load(TestData("llama3"));
  auto starcoder = Tokenizer::Load(TestData("starcoder"));
  auto gpt2 = Tokenizer::Load(TestData("gpt2"));
  ASSERT_TRUE(llama3.ok() && starcoder.ok() && gpt2.ok());
  EXPECT_EQ((*llama3)->vocab().pre, "llama-bpe");
  EXPECT_EQ((*starcoder)->vocab().pre, "starcoder");
  EXPECT_EQ((*gpt2)->vocab().pre, "gpt-2");
  // Llama-3's post-processor template starts with BOS.
  EXPECT_TRUE((*llama3)->add_bos());
  EXPECT_EQ((*llama3)->TokenText(*(*llama3)->bos_id()), "<|begin_of_text|>");
  EXPECT_FALSE((*gpt2)->add_bos());
  EXPECT_FALSE((*llama3)->fim().available());

  tune::testing::ExpectStarCoderFimTokens(**starcoder);
  EXPECT_EQ((*starcoder)->TokenText(*(*starcoder)->fim().eot), "<|endoftext|>");
}

TEST(SyntheticCases, DeepseekCoderFimTokens) {
  auto tok = Tokenizer::Load(TestData("deepseek-coder"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab().pre, "deepseek-coder");
  EXPECT_TRUE((*tok)->add_bos());
  const FimTokens& fim = (*tok)->fim();
  ASSERT_TRUE(fim.available());
  EXPECT_EQ((*tok)->TokenText(*fim.prefix), "<\uFF5Cfim\u2581begin\uFF5C>");
  EXPECT_EQ((*tok)->TokenText(*fim.suffix), "<\uFF5Cfim\u2581hole\uFF5C>");
  EXPECT_EQ((*tok)->TokenText(*fim.middle), "<\uFF5Cfim\u2581end\uFF5C>");
  EXPECT_EQ(fim.eot, (*tok)->eos_id());
  EXPECT_EQ(fim.repo_name, std::nullopt);
}

// CodeGemma style: no dummy prefix; whitespace runs are user-defined tokens matched even with
// parse_special=false, while the (non-special) FIM tokens count as control tokens.
TEST(SyntheticCases, GemmaStyleSentencePiece) {
  auto tok = Tokenizer::Load(TestData("gemma"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab().model, ModelKind::kSentencePiece);
  EXPECT_FALSE((*tok)->vocab().add_space_prefix);
  const FimTokens& fim = (*tok)->fim();
  ASSERT_TRUE(fim.available());
  EXPECT_EQ((*tok)->TokenText(*fim.file_sep), "<|file_separator|>");
  const std::vector<int32_t> ids = (*tok)->Encode("a\n\nb<|fim_prefix|>");
  EXPECT_THAT(ids, ::testing::Contains(7123));  // "\n\n"
  EXPECT_THAT(ids, ::testing::Not(::testing::Contains(*fim.prefix)));
  EXPECT_EQ((*tok)->Decode(ids), "a\n\nb<|fim_prefix|>");
}

// Explicit FIM ids (GGUF fim_* keys) win over discovery; unknown pre-tokenizers are refused.
TEST(SyntheticCases, VocabDataFimOverrideAndUnknownPre) {
  auto tok = Tokenizer::Load(TestData("starcoder"));
  ASSERT_TRUE(tok.ok());
  VocabData vocab = (*tok)->vocab();
  vocab.fim.eot = 7;
  auto rebuilt = Tokenizer::FromVocab(vocab);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ((*rebuilt)->fim().eot, 7);
  EXPECT_EQ((*rebuilt)->fim().prefix, (*tok)->fim().prefix);
  vocab.fim.eot = 1 << 30;
  EXPECT_EQ(Tokenizer::FromVocab(vocab).status().code(), absl::StatusCode::kInvalidArgument);
  vocab.fim.eot = 7;
  vocab.pre = "deepseek-llm";
  EXPECT_EQ(Tokenizer::FromVocab(vocab).status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace tune::tokenizer
