// tokenizer.model support against libsentencepiece itself, on real source files: the fixture's
// 512-piece model and models trained here (with FIM tokens as user-defined symbols).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/file.h"
#include "tests/support/temp_dir.h"
#include "tests/tokenizer/fim_expectations.h"
#include "tokenizer/internal/sentencepiece_bridge.h"
#include "tokenizer/tokenizer.h"

namespace tune::tokenizer {
namespace {

namespace fs = std::filesystem;

// Real code in several languages; none contains a FIM marker (checked below), so libsentencepiece
// (which always matches user-defined symbols) and Encode(parse_special=false) see the same text.
std::vector<fs::path> SourceFiles() {
  return {tune::testing::SourcePath("tokenizer/tokenizer.cc"),
          tune::testing::SourcePath("tokenizer/pretokenizer.cc"),
          tune::testing::SourcePath("tokenizer/gen_unicode_tables.py"),
          tune::testing::SourcePath("core/file.cc"),
          tune::testing::SourcePath("formats/safetensors.cc"),
          "/usr/lib/python3.11/json/decoder.py",
          "/usr/lib/python3.11/textwrap.py", "/usr/lib/python3.11/argparse.py",
          "/usr/include/c++/12/bits/stl_vector.h"};
}

std::string Read(const fs::path& path) {
  auto text = core::ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : std::string();
}

void ExpectSameAsLibsentencepiece(const fs::path& model) {
  std::string error;
  auto reference = spm_bridge::Processor::Load(model.string(), error);
  ASSERT_NE(reference, nullptr) << error;
  auto tok = Tokenizer::Load(model);
  ASSERT_TRUE(tok.ok()) << tok.status();
  int compared = 0;
  for (const fs::path& file : SourceFiles()) {
    if (!fs::exists(file)) continue;
    const std::string text = Read(file);
    ASSERT_EQ(text.find("<fim"), std::string::npos) << file;
    const std::vector<int32_t> expected = reference->Encode(text);
    const std::vector<int32_t> ids = (*tok)->Encode(text);
    ASSERT_EQ(ids.size(), expected.size()) << file;
    EXPECT_EQ(ids, expected) << file;
    EXPECT_EQ((*tok)->Decode(ids), reference->Decode(expected)) << file;
    // Line by line too: many short inputs exercise the dummy prefix and whitespace handling.
    size_t start = 0;
    for (size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
      const std::string line = text.substr(start, end - start);
      ASSERT_EQ((*tok)->Encode(line), reference->Encode(line)) << file << ": " << line;
      start = end + 1;
    }
    ++compared;
  }
  EXPECT_GE(compared, 5);
}

TEST(SentencePiece, FixtureModelMatchesLibsentencepiece) {
  ExpectSameAsLibsentencepiece(tune::testing::FixturePath("tiny-llama/tokenizer.model"));
}

// The embedded tiny default model's tokenizer (tests/tools/spm_train/train_tiny_fim.sh).
TEST(SentencePiece, EmbeddedTinyModelMatchesLibsentencepieceAndHasFim) {
  const fs::path model = tune::testing::SourcePath("configs/tokenizer/tiny-fim.model");
  ExpectSameAsLibsentencepiece(model);
  auto tok = Tokenizer::Load(model);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab_size(), 512);
  tune::testing::ExpectStarCoderFimTokens(**tok);
  EXPECT_EQ((*tok)->fim().eot, (*tok)->eos_id());
  EXPECT_EQ((*tok)->TokenText(*(*tok)->eos_id()), "</s>");
}

TEST(SentencePiece, FixtureModelVocabulary) {
  auto tok = Tokenizer::Load(tune::testing::FixturePath("tiny-llama/tokenizer.model"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab_size(), 512);
  EXPECT_EQ((*tok)->TokenText(0), "<unk>");
  EXPECT_EQ((*tok)->TokenText(3), "<0x00>");
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_EQ((*tok)->eos_id(), 2);
  EXPECT_TRUE((*tok)->add_bos());
  EXPECT_EQ((*tok)->vocab().model, ModelKind::kSentencePiece);
}

// Trains a BPE model on real code with the FIM tokens as user-defined symbols, then compares.
class TrainedModel : public ::testing::TestWithParam<bool> {};

TEST_P(TrainedModel, MatchesLibsentencepiece) {
  const bool remove_extra_whitespaces = GetParam();
  tune::testing::TempDir dir;
  std::string corpus;
  for (const char* f : {"tokenizer/bpe.cc", "tokenizer/unicode.cc", "tokenizer/byte_level.cc",
                        "tokenizer/hf_tokenizer_json.cc", "tokenizer/sentencepiece_model.cc"}) {
    corpus += Read(tune::testing::SourcePath(f));
  }
  tune::testing::WriteTestFile(dir / "corpus.txt", corpus);
  const std::string error = spm_bridge::Train(
      "--input=" + (dir / "corpus.txt").string() + " --model_prefix=" + (dir / "m").string() +
      " --model_type=bpe --vocab_size=700 --byte_fallback=true --character_coverage=1.0"
      " --normalization_rule_name=identity --split_digits=true --max_sentence_length=100000"
      " --remove_extra_whitespaces=" + (remove_extra_whitespaces ? "true" : "false") +
      " --user_defined_symbols=<fim_prefix>,<fim_middle>,<fim_suffix>,<fim_pad>,<repo_name>,"
      "<file_sep> --minloglevel=2");
  ASSERT_EQ(error, "");
  ExpectSameAsLibsentencepiece(dir / "m.model");

  auto tok = Tokenizer::Load(dir / "m.model");
  ASSERT_TRUE(tok.ok()) << tok.status();
  tune::testing::ExpectStarCoderFimTokens(**tok);
  const FimTokens& fim = (*tok)->fim();
  EXPECT_EQ(fim.eot, (*tok)->eos_id());
  // With parsing on, the marker is one token; off, it is spelled out.
  EXPECT_THAT((*tok)->Encode("a<fim_prefix>b", true), ::testing::Contains(*fim.prefix));
  EXPECT_THAT((*tok)->Encode("a<fim_prefix>b", false),
              ::testing::Not(::testing::Contains(*fim.prefix)));
}

INSTANTIATE_TEST_SUITE_P(RemoveExtraWhitespaces, TrainedModel, ::testing::Bool());

}  // namespace
}  // namespace tune::tokenizer
