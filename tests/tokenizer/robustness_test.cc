// Any byte string is valid input: invalid UTF-8, NUL bytes, truncated sequences and half-written
// special tokens must encode without crashing, and decode back to the input (modulo the
// documented normalizations). The fuzz loop runs TUNE_FUZZ_SECONDS (default 2) per tokenizer;
// docs/tokenizers.md records a one-minute run under ASan/UBSan.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "core/file.h"
#include "tests/support/temp_dir.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace tune::tokenizer {
namespace {

std::unique_ptr<Tokenizer> LoadFixture(const std::string& name) {
  auto tok = Tokenizer::Load(tune::testing::FixturePath("tokenizers/" + name));
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? *std::move(tok) : nullptr;
}

// What Decode(Encode(text)) must give: byte-level BPE with NFC returns the NFC form,
// SentencePiece returns `▁` as a space.
std::string RoundTripped(const Tokenizer& tok, const std::string& text) {
  if (tok.vocab().model == ModelKind::kSentencePiece) {
    std::string out;
    for (size_t pos = 0; pos < text.size();) {
      if (text.compare(pos, 3, "\xE2\x96\x81") == 0) {
        out += ' ', pos += 3;
      } else {
        out += text[pos++];
      }
    }
    return out;
  }
  std::string nfc;
  return tok.vocab().pre == "qwen2" && internal::NormalizeNfc(text, nfc) ? nfc : text;
}

TEST(Robustness, InvalidUtf8AndNulBytesRoundTrip) {
  const std::vector<std::string> inputs = {
      std::string("a\0b", 3), std::string(5, '\0'), "\xFF\xFE", "\xC3", "abc\xE2\x82",
      "\xED\xA0\x80",        // surrogate
      "\xC0\xAF",            // overlong '/'
      "\xF4\x90\x80\x80",    // past U+10FFFF
      "x\x80y \x80\x80 z",   // stray continuation bytes
      "<|fim_pre\xFF<|endoftext|\x00>", "e\xCC\x81\xFF\xCC\x81"};
  for (const std::string name : {"qwen3", "llama2"}) {
    auto tok = LoadFixture(name);
    ASSERT_NE(tok, nullptr);
    for (const std::string& text : inputs) {
      for (bool special : {false, true}) {
        const std::vector<int32_t> ids = tok->Encode(text, special);
        EXPECT_FALSE(ids.empty()) << name;
        for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok->vocab_size());
        EXPECT_EQ(tok->Decode(ids), RoundTripped(*tok, text)) << name << " " << special;
      }
    }
  }
}

TEST(Robustness, DecodeIgnoresIdsOutsideTheVocabulary) {
  auto tok = LoadFixture("qwen3");
  ASSERT_NE(tok, nullptr);
  const std::vector<int32_t> ids = {-5, 9707, 1 << 30, 1879};
  EXPECT_EQ(tok->Decode(ids), "Hello world");
  EXPECT_EQ(tok->TokenText(-1), "");
}

// Random byte strings biased towards the interesting cases.
std::string RandomText(std::mt19937& rng) {
  static const std::vector<std::string> kFragments = {
      " ",  "  ", "\n", "\r\n", "\t", std::string(1, '\0'), "'s", "'LL", "123", "x", "Foo",
      "<|", "|>", "<|fim_prefix|>", "<s>", "</s>", "<unk>", "\xCC\x81", "\xC3\xA9", "e",
      "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "\xE2\x96\x81", "\xFF", "\x80", "\xE2\x82", "{};",
      "\xEF\xBC\x91", "\xD9\xA3"};
  std::uniform_int_distribution<int> length(0, 40), pick(0, 3), byte(0, 255);
  std::uniform_int_distribution<size_t> fragment(0, kFragments.size() - 1);
  std::string text;
  for (int i = length(rng); i > 0; --i) {
    if (pick(rng) == 0) {
      text += static_cast<char>(byte(rng));
    } else {
      text += kFragments[fragment(rng)];
    }
  }
  return text;
}

TEST(Robustness, FuzzEncodeDecode) {
  const char* env = std::getenv("TUNE_FUZZ_SECONDS");
  const double seconds = env ? std::atof(env) : 2.0;
  for (const std::string name : {"qwen3", "llama2"}) {
    auto tok = LoadFixture(name);
    ASSERT_NE(tok, nullptr);
    std::mt19937 rng(42);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds / 2);
    int64_t iterations = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = RandomText(rng);
      const std::vector<int32_t> plain = tok->Encode(text, false);
      ASSERT_EQ(tok->Decode(plain), RoundTripped(*tok, text))
          << name << ": " << ::testing::PrintToString(text);
      for (int32_t id : tok->Encode(text, true)) ASSERT_TRUE(id >= 0 && id < tok->vocab_size());
      ++iterations;
    }
    EXPECT_GT(iterations, 100) << name;
    std::printf("%s: %lld fuzz inputs\n", name.c_str(), static_cast<long long>(iterations));
  }
}

// Broken files are errors naming the file, never crashes; mutated tokenizer.model files are
// either rejected or load into a tokenizer that encodes.
TEST(Robustness, MalformedFilesAreErrors) {
  tune::testing::TempDir dir;
  auto load = [&](const std::string& name, const std::string& contents) {
    tune::testing::WriteTestFile(dir / name, contents);
    return Tokenizer::Load(dir / name).status();
  };
  for (const std::string json :
       {"{", "[]", R"({"model": {"type": "Unigram"}})",
        R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]},
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}})",
        R"({"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []},
            "pre_tokenizer": {"type": "ByteLevel"}})",
        R"({"model": {"type": "BPE", "vocab": {}, "merges": []},
            "pre_tokenizer": {"type": "Whitespace"}})",
        // vocab and merges are streamed out of the parse: bad entries must still be errors.
        R"({"model": {"type": "BPE", "vocab": {"a": {"id": 0}, "b": 1}, "merges": []},
            "pre_tokenizer": {"type": "ByteLevel"}})",
        R"({"model": {"type": "BPE", "vocab": {"a": [0], "b": 1}, "merges": []},
            "pre_tokenizer": {"type": "ByteLevel"}})",
        R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2},
            "merges": [{"left": "a"}]}, "pre_tokenizer": {"type": "ByteLevel"}})",
        R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a"]]},
            "pre_tokenizer": {"type": "ByteLevel"}})",
        R"({"model": {"type": "BPE", "vocab": ["a", "b"], "merges": []},
            "pre_tokenizer": {"type": "ByteLevel"}})",
        // Added-token ids are checked before conversion (a float was converted unchecked).
        R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
            "added_tokens": [{"id": 1e30, "content": "x"}], "pre_tokenizer": {"type": "ByteLevel"}})",
        R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
            "added_tokens": [{"id": 1.5, "content": "x"}], "pre_tokenizer": {"type": "ByteLevel"}})"}) {
    const absl::Status status = load("tokenizer.json", json);
    EXPECT_FALSE(status.ok()) << json;
    EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("tokenizer.json")) << json;
  }
  auto model = core::ReadFile(tune::testing::FixturePath("tiny-llama/tokenizer.model"));
  ASSERT_TRUE(model.ok());
  EXPECT_FALSE(load("tokenizer.model", model->substr(0, model->size() / 2)).ok());
  EXPECT_FALSE(load("tokenizer.model", "\xff\xff\xff").ok());
  EXPECT_FALSE(load("tokenizer.txt", "x").ok());
  EXPECT_EQ(Tokenizer::Load(dir / "missing").status().code(), absl::StatusCode::kNotFound);

  std::mt19937 rng(3);
  std::uniform_int_distribution<size_t> where(0, model->size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  int loaded = 0;
  for (int i = 0; i < 300; ++i) {
    std::string mutated = *model;
    for (int k = 0; k < 3; ++k) mutated[where(rng)] = static_cast<char>(byte(rng));
    tune::testing::WriteTestFile(dir / "m.model", mutated);
    auto tok = Tokenizer::Load(dir / "m.model");
    if (!tok.ok()) continue;
    ++loaded;
    const std::vector<int32_t> ids = (*tok)->Encode("int main() { return 0; }\n");
    for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < (*tok)->vocab_size());
  }
  EXPECT_GT(loaded, 0);
}

// Found by fuzz/tokenizer_model (fuzz/regressions/tokenizer_model/): vocabulary errors did not
// name the file, byte tokens such as "<0x-3>" wrote outside the byte table, and byte fallback took a byte token for a character's first byte as proof that
// all its bytes had one, encoding id -1 for the others.
TEST(Robustness, VocabularyErrorsNameTheFile) {
  tune::testing::TempDir dir;
  auto bytes = core::ReadFile(
      tune::testing::SourcePath("fuzz/regressions/tokenizer_model/byte-token-not-hex"));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  tune::testing::WriteTestFile(dir / "tokenizer.model", *bytes);
  const absl::Status status = Tokenizer::Load(dir / "tokenizer.model").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::AllOf(::testing::StartsWith((dir / "tokenizer.model").string() + ": "),
                               ::testing::HasSubstr("not <0xXX>")));
  // "<0x-3>" passed sscanf's %2X and wrote byte_ids[4294967293].
  for (const char* bad : {"<0x-3>", "<0x+3>", "<0x 3>", "<0xG0>", "<0x3>", "<0x003>"}) {
    VocabData v;
    v.model = ModelKind::kSentencePiece;
    v.pre = "default";
    v.tokens = {"a", bad};
    v.types = {TokenType::kNormal, TokenType::kByte};
    v.scores = {0, 0};
    EXPECT_THAT(std::string(Tokenizer::FromVocab(v).status().message()),
                ::testing::HasSubstr("not <0xXX>"))
        << bad;
  }
  VocabData empty;
  EXPECT_THAT(std::string(Tokenizer::FromVocab(empty).status().message()),
              ::testing::StartsWith("vocabulary data: tokenizer vocabulary: no tokens"));
}

TEST(Robustness, ByteFallbackNeedsATokenForEveryByteOfTheCharacter) {
  VocabData v;
  v.model = ModelKind::kSentencePiece;
  v.pre = "default";
  v.tokens = {"<unk>", "<0xE2>", "a"};
  v.types = {TokenType::kUnknown, TokenType::kByte, TokenType::kNormal};
  v.scores = {0, 0, -1};
  v.unk = 0;
  auto with_unk = Tokenizer::FromVocab(v);
  ASSERT_TRUE(with_unk.ok()) << with_unk.status();
  // "a€a": € is E2 82 AC, and only E2 has a byte token.
  EXPECT_THAT((*with_unk)->Encode("a\xE2\x82\xAC" "a"), ::testing::ElementsAre(2, 0, 2));
  EXPECT_THAT((*with_unk)->Encode("\xE2"), ::testing::ElementsAre(1));
  v.unk.reset();
  auto without_unk = Tokenizer::FromVocab(v);
  ASSERT_TRUE(without_unk.ok()) << without_unk.status();
  EXPECT_THAT((*without_unk)->Encode("a\xE2\x82\xAC" "a"), ::testing::ElementsAre(2, 2));
}

// Encode is const and keeps its word cache per thread: threads and interleaved tokenizers must
// not change any result.
TEST(Robustness, ThreadsAndInterleavedTokenizersGiveTheSameIds) {
  auto qwen = LoadFixture("qwen3");
  auto llama = LoadFixture("llama2");
  ASSERT_TRUE(qwen && llama);
  std::mt19937 rng(7);
  std::vector<std::string> texts;
  for (int i = 0; i < 300; ++i) texts.push_back(RandomText(rng) + " def f(x): return x + 1\n");
  std::vector<std::vector<int32_t>> expected_qwen, expected_llama;
  for (const std::string& t : texts) {
    expected_qwen.push_back(qwen->Encode(t));
    expected_llama.push_back(llama->Encode(t));
  }
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          // Alternate tokenizers so the thread's cache changes owner all the time.
          failures[t] += qwen->Encode(texts[i]) != expected_qwen[i];
          failures[t] += llama->Encode(texts[i]) != expected_llama[i];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(failures, ::testing::Each(0));
}

}  // namespace
}  // namespace tune::tokenizer
