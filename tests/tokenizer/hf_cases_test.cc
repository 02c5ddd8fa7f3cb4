// Token-for-token parity with Hugging Face `tokenizers` on the reference cases (ids made with
// add_special_tokens=False; special tokens written in the text are matched, so these tests
// encode with parse_special=true).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "tests/support/temp_dir.h"
#include "tests/tokenizer/cases.h"
#include "tokenizer/tokenizer.h"

namespace tune::tokenizer {
namespace {

using ::testing::ElementsAre;
using ::testing::Not;
using ::testing::Contains;

class HfCasesTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HfCasesTest, EveryCaseExact) {
  const auto dir = tune::testing::FixturePath("tokenizers/" + GetParam());
  auto tok = Tokenizer::Load(dir / "tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::vector<Case> cases = LoadCases(dir / "cases.json");
  ASSERT_GT(cases.size(), 100u);
  ExpectCasesExact(**tok, cases);
}

// GGUF round trip: the plain vocabulary data rebuilds an identical tokenizer.
TEST_P(HfCasesTest, RebuiltFromVocabDataIsIdentical) {
  const auto dir = tune::testing::FixturePath("tokenizers/" + GetParam());
  auto tok = Tokenizer::Load(dir);
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto rebuilt = Tokenizer::FromVocab((*tok)->vocab());
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ((*rebuilt)->Fingerprint(), (*tok)->Fingerprint());
  EXPECT_EQ((*rebuilt)->fim(), (*tok)->fim());
  ExpectCasesExact(**rebuilt, LoadCases(dir / "cases.json"));
}

// 1,000 random texts per tokenizer, ids from @huggingface/tokenizers (testdata/README.md).
TEST_P(HfCasesTest, RandomTextsExact) {
  auto tok = Tokenizer::Load(tune::testing::FixturePath("tokenizers/" + GetParam()));
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::vector<Case> cases = LoadCases(
      tune::testing::SourcePath("tests/tokenizer/testdata/random/" + GetParam() + ".json"));
  ASSERT_EQ(cases.size(), 1000u);
  ExpectCasesExact(**tok, cases);
}

INSTANTIATE_TEST_SUITE_P(Families, HfCasesTest, ::testing::Values("qwen3", "llama2"));

// GGUF stores no merges for SentencePiece ("llama"): scores alone must reproduce the ids.
TEST(HfCases, Llama2FromScoresOnly) {
  const auto dir = tune::testing::FixturePath("tokenizers/llama2");
  auto tok = Tokenizer::Load(dir);
  ASSERT_TRUE(tok.ok()) << tok.status();
  VocabData vocab = (*tok)->vocab();
  ASSERT_EQ(vocab.scores.size(), vocab.tokens.size());
  vocab.merges.clear();
  auto rebuilt = Tokenizer::FromVocab(vocab);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  ExpectCasesExact(**rebuilt, LoadCases(dir / "cases.json"));
}

TEST(HfCases, QwenFimAndSpecialIds) {
  auto tok = Tokenizer::Load(tune::testing::FixturePath("tokenizers/qwen3"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  const FimTokens& fim = (*tok)->fim();
  EXPECT_TRUE(fim.available());
  EXPECT_EQ(fim.prefix, 151659);
  EXPECT_EQ(fim.middle, 151660);
  EXPECT_EQ(fim.suffix, 151661);
  EXPECT_EQ(fim.pad, 151662);
  EXPECT_EQ(fim.repo_name, 151663);
  EXPECT_EQ(fim.file_sep, 151664);
  EXPECT_EQ(fim.eot, 151643);
  EXPECT_FALSE((*tok)->add_bos());
  EXPECT_EQ((*tok)->bos_id(), std::nullopt);
  EXPECT_EQ((*tok)->eos_id(), 151645);  // <|im_end|> per tokenizer_config.json
  EXPECT_EQ((*tok)->vocab_size(), 151669);
  EXPECT_EQ((*tok)->TokenText(151659), "<|fim_prefix|>");
  EXPECT_EQ((*tok)->TokenText(220), "\xC4\xA0");  // Ġ
}

TEST(HfCases, Llama2SpecialIdsAndNoFim) {
  auto tok = Tokenizer::Load(tune::testing::FixturePath("tokenizers/llama2"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_TRUE((*tok)->add_bos());
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_EQ((*tok)->eos_id(), 2);
  EXPECT_FALSE((*tok)->fim().available());
  EXPECT_EQ((*tok)->fim().prefix, std::nullopt);
}

// CodeLlama's FIM pieces (ids 32007-32010 in the real vocabulary), added to the llama2 one.
TEST(HfCases, CodeLlamaFimPieces) {
  auto tok = Tokenizer::Load(tune::testing::FixturePath("tokenizers/llama2"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  VocabData vocab = (*tok)->vocab();
  for (const char* piece : {"\u2581<PRE>", "\u2581<SUF>", "\u2581<MID>", "\u2581<EOT>"}) {
    vocab.tokens.push_back(piece);
    vocab.types.push_back(TokenType::kControl);
    vocab.scores.push_back(0);
  }
  auto codellama = Tokenizer::FromVocab(vocab);
  ASSERT_TRUE(codellama.ok()) << codellama.status();
  const FimTokens& fim = (*codellama)->fim();
  EXPECT_EQ(fim.prefix, 32000);
  EXPECT_EQ(fim.suffix, 32001);
  EXPECT_EQ(fim.middle, 32002);
  EXPECT_EQ(fim.eot, 32003);
  EXPECT_EQ(fim.pad, std::nullopt);
  EXPECT_EQ(fim.file_sep, std::nullopt);
  // Control pieces decode to their text with ▁ as a space, as HF's decoder does.
  const std::vector<int32_t> ids = {1, 32000, 22557};
  EXPECT_EQ((*codellama)->Decode(ids), "<s> <PRE> Hello");
}

// Ingest encodes file text with parse_special=false: a file mentioning a control or FIM token
// must not produce its id, and decoding gives the text back. Qwen's FIM tokens are marked
// non-special in tokenizer.json; they count as control tokens all the same. User-defined
// vocabulary tokens such as <think> are matched as HF does.
TEST(HfCases, ParseSpecialOffEncodesMarkersAsText) {
  auto tok = Tokenizer::Load(tune::testing::FixturePath("tokenizers/qwen3"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::string text = "x = '<|fim_prefix|><|endoftext|><|file_sep|><think>'";
  const std::vector<int32_t> plain = (*tok)->Encode(text);
  for (int32_t id : {151659, 151643, 151664}) EXPECT_THAT(plain, Not(Contains(id)));
  EXPECT_THAT(plain, Contains(151667));  // <think>
  EXPECT_EQ((*tok)->Decode(plain), text);
  EXPECT_THAT((*tok)->Encode(text, true), Contains(151659));
  EXPECT_EQ((*tok)->vocab().types[151659], TokenType::kControl);
  EXPECT_EQ((*tok)->vocab().types[151667], TokenType::kUserDefined);
}

TEST(HfCases, FingerprintDiffersAcrossTokenizersAndIsStable) {
  auto qwen = Tokenizer::Load(tune::testing::FixturePath("tokenizers/qwen3"));
  auto llama = Tokenizer::Load(tune::testing::FixturePath("tokenizers/llama2"));
  ASSERT_TRUE(qwen.ok() && llama.ok());
  EXPECT_EQ((*qwen)->Fingerprint().size(), 16u);
  EXPECT_NE((*qwen)->Fingerprint(), (*llama)->Fingerprint());
  VocabData changed = (*qwen)->vocab();
  changed.add_bos = !changed.add_bos;
  auto other = Tokenizer::FromVocab(changed);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->Fingerprint(), (*qwen)->Fingerprint());
}

}  // namespace
}  // namespace tune::tokenizer
