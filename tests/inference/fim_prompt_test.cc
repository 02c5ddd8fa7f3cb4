// BuildFimPrompt on a byte vocabulary written out here (one token per byte, sentinels 1..8), so
// every expected prompt can be spelled by hand.
#include "inference/fim_prompt.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tune::inference {
namespace {

using ::testing::ElementsAreArray;

constexpr int32_t kBos = 1, kEos = 2, kPre = 3, kSuf = 4, kMid = 5, kPad = 6, kRepo = 7, kSep = 8;
constexpr int32_t kByte0 = 16;

class ByteVocab : public Vocab {
 public:
  explicit ByteVocab(bool repo_tokens, bool add_bos = false) : repo_(repo_tokens), add_bos_(add_bos) {}
  std::vector<int32_t> Tokenize(std::string_view text, bool) const override {
    std::vector<int32_t> ids;
    for (unsigned char c : text) ids.push_back(kByte0 + c);
    return ids;
  }
  std::string Piece(int32_t id) const override {
    return id >= kByte0 ? std::string(1, static_cast<char>(id - kByte0)) : "<" + std::to_string(id) + ">";
  }
  int32_t size() const override { return kByte0 + 256; }
  FimTokenIds fim() const override {
    FimTokenIds f{kPre, kSuf, kMid, kPad, std::nullopt, std::nullopt};
    if (repo_) f.repo_name = kRepo, f.file_sep = kSep;
    return f;
  }
  std::optional<int32_t> bos_to_add() const override { return add_bos_ ? std::optional<int32_t>(kBos) : std::nullopt; }
  bool IsEndOfGeneration(int32_t id) const override { return id == kEos || id == kPad; }

 private:
  bool repo_, add_bos_;
};

// Spells a prompt: strings are bytes, ints are sentinels.
struct P {
  std::vector<int32_t> ids;
  P& operator<<(int32_t id) { ids.push_back(id); return *this; }
  P& operator<<(const std::string& s) {
    for (unsigned char c : s) ids.push_back(kByte0 + c);
    return *this;
  }
};

CompletionRequest Infill(std::string prefix, std::string suffix, std::string typed = "") {
  CompletionRequest r;
  r.kind = PromptKind::kInfill;
  r.input_prefix = std::move(prefix);
  r.input_suffix = std::move(suffix);
  r.prompt_text = std::move(typed);
  return r;
}

TEST(FimPromptTest, PsmWithoutRepoTokensIsPrefixSuffixMiddle) {
  absl::StatusOr<FimPrompt> p = BuildFimPrompt(ByteVocab(false), {}, {}, Infill("ab\n", "\nyz", "  x"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->tokens, ElementsAreArray((P() << kPre << "ab\n  x" << kSuf << "\nyz" << kMid).ids));
  EXPECT_FALSE(p->truncated);
}

TEST(FimPromptTest, BosComesFirstWhenTheModelAddsOne) {
  absl::StatusOr<FimPrompt> p = BuildFimPrompt(ByteVocab(false, true), {}, {}, Infill("a", "b"));
  ASSERT_TRUE(p.ok());
  EXPECT_THAT(p->tokens, ElementsAreArray((P() << kBos << kPre << "a" << kSuf << "b" << kMid).ids));
}

TEST(FimPromptTest, SpmIsTheTrainingVariant) {
  FimLayout layout;
  layout.spm = true;
  absl::StatusOr<FimPrompt> p = BuildFimPrompt(ByteVocab(false), layout, {}, Infill("ab", "yz"));
  ASSERT_TRUE(p.ok());
  // data/fim.cc trains SPM as <PRE> <SUF> suffix <MID> prefix middle.
  EXPECT_THAT(p->tokens, ElementsAreArray((P() << kPre << kSuf << "yz" << kMid << "ab").ids));
}

TEST(FimPromptTest, RepoLayoutMatchesTrainingWithChunksAndFileName) {
  CompletionRequest r = Infill("x = ", "\n");
  r.filename = "src/main.py";
  r.input_extra = {{"src/a.py", "def a(): pass\n"}, {"src/b.py", "B = 1"}};
  FimLayout layout;
  layout.repo_name = "shop";
  absl::StatusOr<FimPrompt> p = BuildFimPrompt(ByteVocab(true), layout, {}, r);
  ASSERT_TRUE(p.ok());
  // [<REPO> name\n] (<SEP> path\ntext\n)* <SEP> file\n <PRE> ... as data/fim.cc builds it.
  EXPECT_THAT(p->tokens, ElementsAreArray((P() << kRepo << "shop\n" << kSep << "src/a.py\ndef a(): pass\n\n"
                                               << kSep << "src/b.py\nB = 1\n" << kSep << "src/main.py\n"
                                               << kPre << "x = " << kSuf << "\n" << kMid).ids));
  EXPECT_EQ(p->extra_chunks, 2);
}

TEST(FimPromptTest, WithoutFileSepChunksUseLlamaCppSnippetSeparator) {
  CompletionRequest r = Infill("p", "s");
  r.input_extra = {{"a.c", "int a;"}};
  absl::StatusOr<FimPrompt> p = BuildFimPrompt(ByteVocab(false), {}, {}, r);
  ASSERT_TRUE(p.ok());
  EXPECT_THAT(p->tokens,
              ElementsAreArray((P() << "\n\n--- snippet ---\n\nint a;" << kPre << "p" << kSuf << "s" << kMid).ids));
}

TEST(FimPromptTest, PrefixKeepsItsEndAndSuffixItsStart) {
  const FimBudget budget{.n_batch = 40, .n_ctx = 4096, .n_predict = 16};  // prefix 30, suffix 8
  absl::StatusOr<FimPrompt> p =
      BuildFimPrompt(ByteVocab(false), {}, budget, Infill(std::string(50, 'a') + "0123456789", "ABCDEFGHIJKLMNOP"));
  ASSERT_TRUE(p.ok());
  EXPECT_THAT(p->tokens, ElementsAreArray((P() << kPre << std::string(20, 'a') + "0123456789" << kSuf
                                               << "ABCDEFGH" << kMid).ids));
  EXPECT_TRUE(p->truncated);
}

TEST(FimPromptTest, ExtraChunksKeepTheNewestWholeChunksThatFit) {
  CompletionRequest r = Infill("p", "s");
  // Budget: n_ctx - n_batch - 2 * n_predict = 100 - 64 - 2 * 8 = 20 tokens of chunks; the header
  // (<REPO> "myproject\n") and the file header do not count.
  const FimBudget budget{.n_batch = 64, .n_ctx = 100, .n_predict = 8};
  r.input_extra = {{"old", "0123456789"}, {"mid", "abcdef"}, {"new", "ABC"}};
  absl::StatusOr<FimPrompt> p = BuildFimPrompt(ByteVocab(true), {}, budget, r);
  ASSERT_TRUE(p.ok());
  // "new": 1 + 4 + 3 + 1 = 9 tokens; "mid": 1 + 4 + 6 + 1 = 12 > 11 left: dropped, and so is "old".
  EXPECT_THAT(p->tokens, ElementsAreArray((P() << kRepo << "myproject\n" << kSep << "new\nABC\n" << kSep
                                               << "filename\n" << kPre << "p" << kSuf << "s" << kMid).ids));
  EXPECT_EQ(p->extra_chunks, 1);
  EXPECT_TRUE(p->truncated);
}

TEST(FimPromptTest, DuplicateChunksAppearOnceAtTheirNewestPlace) {
  CompletionRequest r = Infill("p", "s");
  r.input_extra = {{"a", "same"}, {"b", "other"}, {"c", "same"}};
  absl::StatusOr<FimPrompt> p = BuildFimPrompt(ByteVocab(true), {}, {}, r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->extra_chunks, 2);
  EXPECT_THAT(p->tokens, ElementsAreArray((P() << kRepo << "myproject\n" << kSep << "b\nother\n" << kSep
                                               << "c\nsame\n" << kSep << "filename\n" << kPre << "p" << kSuf
                                               << "s" << kMid).ids));
}

TEST(FimPromptTest, ModelWithoutFimTokensIsUnimplemented) {
  class NoFim : public ByteVocab {
   public:
    NoFim() : ByteVocab(false) {}
    FimTokenIds fim() const override { return {}; }
  };
  absl::StatusOr<FimPrompt> p = BuildFimPrompt(NoFim(), {}, {}, Infill("a", "b"));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(p.status().message()), ::testing::HasSubstr("no FIM"));
}

}  // namespace
}  // namespace tune::inference
