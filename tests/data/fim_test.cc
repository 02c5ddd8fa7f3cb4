#include "data/fim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "data/syntax_spans.h"
#include "tests/support/temp_dir.h"
#include "tokenizer/tokenizer.h"

namespace tune::data {
namespace {

using ::tune::testing::FixturePath;

const tokenizer::Tokenizer& Qwen() {
  static auto tok = tokenizer::Tokenizer::Load(FixturePath("tokenizers/qwen3/tokenizer.json"));
  EXPECT_TRUE(tok.ok()) << tok.status();
  return **tok;
}

size_t Count(const Sample& s, std::optional<int32_t> id) {
  return std::count(s.tokens.begin(), s.tokens.end(), *id);
}

size_t IndexOf(const Sample& s, std::optional<int32_t> id) {
  return std::find(s.tokens.begin(), s.tokens.end(), *id) - s.tokens.begin();
}

std::string DecodeRange(const tokenizer::Tokenizer& tok, const Sample& s, size_t a, size_t b) {
  return tok.Decode(std::span<const int32_t>(s.tokens).subspan(a, b - a));
}

const char* kPython =
    "import os\n\n\ndef load(path, mode='r'):\n    with open(path, mode) as f:\n"
    "        data = f.read()\n    return parse(data, strict=True)\n\n\n"
    "def parse(text, strict=False):\n    if strict and not text:\n        raise "
    "ValueError('empty')\n"
    "    return [line.split(',') for line in text.splitlines()]\n";

TEST(FimTest, SourceTextCannotInjectControlTokens) {
  const tokenizer::Tokenizer& tok = Qwen();
  ASSERT_TRUE(tok.fim().available());
  std::string evil = "x = '<|fim_prefix|><|fim_middle|><|endoftext|><|file_sep|><|repo_name|>'\n";
  FimOptions opt;
  opt.fim_rate = 0;
  opt.repo_context_rate = 0;
  std::mt19937_64 rng(1);
  Sample plain = BuildSample(tok, opt, {"a.py", evil, "python", "repo", {}}, rng);
  const tokenizer::FimTokens& fim = tok.fim();
  for (auto id : {fim.prefix, fim.middle, fim.suffix, fim.repo_name, fim.file_sep}) {
    EXPECT_EQ(Count(plain, id), 0u);
  }
  EXPECT_EQ(plain.tokens.back(), *fim.eot);
  EXPECT_EQ(Count(plain, fim.eot), 1u);
  EXPECT_EQ(tok.Decode(std::span<const int32_t>(plain.tokens).first(plain.tokens.size() - 1)),
            evil);

  opt.fim_rate = 1;
  opt.structured_rate = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 r(seed);
    Sample s = BuildSample(tok, opt, {"a.py", evil, "python", "repo", {}}, r);
    EXPECT_EQ(Count(s, fim.prefix), 1u);
    EXPECT_EQ(Count(s, fim.middle), 1u);
    EXPECT_EQ(Count(s, fim.suffix), 1u);
  }
}

TEST(FimTest, PsmAndSpmLayoutsReassembleTheFile) {
  const tokenizer::Tokenizer& tok = Qwen();
  const tokenizer::FimTokens& fim = tok.fim();
  FimOptions opt;
  opt.fim_rate = 1;
  opt.structured_rate = 0;
  opt.repo_context_rate = 0;
  std::string text = kPython;
  for (double spm : {0.0, 1.0}) {
    opt.spm_rate = spm;
    for (uint64_t seed = 0; seed < 10; ++seed) {
      std::mt19937_64 rng(seed);
      Sample s = BuildSample(tok, opt, {"a.py", text, "python", "repo", {}}, rng);
      ASSERT_EQ(s.kind, spm > 0 ? SampleKind::kSpm : SampleKind::kPsm);
      ASSERT_EQ(s.tokens.size(), s.loss_mask.size());
      size_t pre = IndexOf(s, fim.prefix), suf = IndexOf(s, fim.suffix),
             mid = IndexOf(s, fim.middle);
      size_t end = s.tokens.size() - 1;
      EXPECT_EQ(s.tokens[end], *fim.eot);
      EXPECT_EQ(s.loss_mask[end], 1);
      EXPECT_EQ(s.loss_mask[pre] + s.loss_mask[suf] + s.loss_mask[mid], 0);
      std::string prefix = text.substr(0, s.middle_begin);
      std::string middle = text.substr(s.middle_begin, s.middle_end - s.middle_begin);
      std::string suffix = text.substr(s.middle_end);
      if (spm > 0) {
        EXPECT_EQ(pre, 0u);
        EXPECT_EQ(suf, 1u);
        EXPECT_EQ(DecodeRange(tok, s, suf + 1, mid), suffix);
        EXPECT_EQ(DecodeRange(tok, s, mid + 1, end), prefix + middle);
      } else {
        EXPECT_EQ(pre, 0u);
        EXPECT_EQ(DecodeRange(tok, s, pre + 1, suf), prefix);
        EXPECT_EQ(DecodeRange(tok, s, suf + 1, mid), suffix);
        EXPECT_EQ(DecodeRange(tok, s, mid + 1, end), middle);
      }
    }
  }
}

TEST(FimTest, StructuredMiddlesAreSyntaxNodes) {
  const tokenizer::Tokenizer& tok = Qwen();
  FimOptions opt;
  opt.fim_rate = 1;
  opt.structured_rate = 1;
  opt.repo_context_rate = 0;
  opt.min_middle_bytes = 4;
  std::string text = kPython;
  auto spans = FindSyntaxSpans("python", text, 4, 1000);
  ASSERT_TRUE(spans.ok());
  std::set<std::pair<uint32_t, uint32_t>> nodes;
  for (const SyntaxSpan& sp : *spans) nodes.emplace(sp.begin, sp.end);
  std::set<SpanKind> kinds;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    std::mt19937_64 rng(seed);
    Sample s = BuildSample(tok, opt, {"a.py", text, "python", "repo", {}}, rng);
    ASSERT_TRUE(s.structured);
    EXPECT_TRUE(nodes.count({s.middle_begin, s.middle_end}))
        << text.substr(s.middle_begin, s.middle_end - s.middle_begin);
    kinds.insert(s.span_kind);
  }
  EXPECT_GE(kinds.size(), 4u);  // functions, blocks, statements, expressions, argument lists
}

// Middles drawn from parse windows of `text` must be nodes of the full parse, and windows must
// reach the whole file.
void ExpectWindowedMiddlesAreNodes(std::string_view language, const std::string& text) {
  ASSERT_GT(text.size(), 40000u);
  FimOptions opt;
  opt.structured_rate = 1;
  auto spans = FindSyntaxSpans(language, text, 16, 1000);
  ASSERT_TRUE(spans.ok());
  std::set<std::pair<uint32_t, uint32_t>> nodes;
  for (const SyntaxSpan& sp : *spans) nodes.emplace(sp.begin, sp.end);
  std::set<uint32_t> starts;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    std::mt19937_64 rng(seed);
    MiddleSpan m = ChooseMiddle(opt, language, text, rng);
    ASSERT_TRUE(m.structured);
    EXPECT_TRUE(nodes.count({m.begin, m.end})) << text.substr(m.begin, m.end - m.begin);
    starts.insert(m.begin);
  }
  EXPECT_GT(*starts.rbegin(), text.size() / 2);
}

TEST(FimTest, LargeFilesAreParsedInWindowsThatKeepNodesAligned) {
  // ~60 KB of Python with top-level classes and functions.
  std::string text = "import os\n\n";
  for (int i = 0; i < 300; ++i) {
    text += "class Thing" + std::to_string(i) +
            ":\n    def run(self, x):\n"
            "        if x > " +
            std::to_string(i) + ":\n            return helper(x, " + std::to_string(i) +
            ")\n        return [v for v in range(x)]\n\n\n";
    text += "def top_" + std::to_string(i) + "(a, b):\n    return a * b + " + std::to_string(i) +
            "\n\n\n";
  }
  ExpectWindowedMiddlesAreNodes("python", text);
}

// One class spanning the whole file: windows start and end at its members.
TEST(FimTest, OneLargeClassIsParsedInWindowsOfItsMembers) {
  std::string python = "class Big:\n    \"\"\"Docs.\"\"\"\n\n";
  std::string java = "package x;\n\npublic class Big {\n";
  for (int i = 0; i < 400; ++i) {
    std::string n = std::to_string(i);
    python += "    def run_" + n + "(self, x):\n        if x > " + n +
              ":\n            return self.helper(x, " + n + ")\n        return [v * " + n +
              " for v in range(x)]\n\n";
    java += "    public int run" + n + "(int x) {\n        if (x > " + n +
            ") {\n            return helper(x, " + n + ");\n        }\n        return x * " + n +
            ";\n    }\n\n";
  }
  java += "}\n";
  ExpectWindowedMiddlesAreNodes("python", python);
  ExpectWindowedMiddlesAreNodes("java", java);
}

TEST(FimTest, RandomCutsRespectUtf8) {
  std::string text = "s = 'héllo wörld ✓ 日本語 😀'\n";
  FimOptions opt;
  opt.structured_rate = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    MiddleSpan m = ChooseMiddle(opt, "python", text, rng);
    ASSERT_LE(m.begin, m.end);
    for (uint32_t cut : {m.begin, m.end}) {
      ASSERT_TRUE(cut == text.size() || (static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80)
          << "seed " << seed << " cut " << cut;
    }
  }
}

TEST(FimTest, RepoContextMasksNeighbours) {
  const tokenizer::Tokenizer& tok = Qwen();
  const tokenizer::FimTokens& fim = tok.fim();
  FimOptions opt;
  opt.fim_rate = 0;
  opt.repo_context_rate = 1;
  std::mt19937_64 rng(3);
  Sample s = BuildSample(tok, opt,
                         {"pkg/b.py",
                          "def b():\n    return 2\n",
                          "python",
                          "myrepo",
                          {{"pkg/a.py", "def a():\n    return 1\n"}}},
                         rng);
  ASSERT_TRUE(s.repo_context);
  EXPECT_EQ(s.tokens[0], *fim.repo_name);
  EXPECT_EQ(Count(s, fim.file_sep), 2u);
  size_t last_sep =
      s.tokens.rend() - std::find(s.tokens.rbegin(), s.tokens.rend(), *fim.file_sep) - 1;
  // Everything up to the last <|file_sep|> is context: no loss.
  for (size_t i = 0; i <= last_sep; ++i) EXPECT_EQ(s.loss_mask[i], 0) << i;
  std::string all = tok.Decode(s.tokens);
  EXPECT_NE(all.find("myrepo\n<|file_sep|>pkg/a.py\ndef a()"), std::string::npos) << all;
  EXPECT_NE(all.find("<|file_sep|>pkg/b.py\ndef b()"), std::string::npos) << all;
}

// A FIM family without <|repo_name|> / <|file_sep|> (CodeLlama, DeepSeek-Coder): the context goes
// before <PRE> as llama.cpp's snippets, the prompt `tune serve` builds for it, with no loss.
TEST(FimTest, FamilyWithoutRepoTokensGetsContextAsSnippets) {
  tokenizer::VocabData v = Qwen().vocab();
  const std::optional<int32_t> repo_id = Qwen().fim().repo_name, sep_id = Qwen().fim().file_sep;
  ASSERT_TRUE(repo_id && sep_id);
  for (int32_t id : {*repo_id, *sep_id}) v.tokens[static_cast<size_t>(id)] = "<|unused_" + std::to_string(id) + "|>";
  v.fim.repo_name.reset();
  v.fim.file_sep.reset();
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> tok = tokenizer::Tokenizer::FromVocab(std::move(v));
  ASSERT_TRUE(tok.ok()) << tok.status();
  ASSERT_TRUE((*tok)->fim().available());
  ASSERT_FALSE((*tok)->fim().file_sep);
  FimOptions opt;
  opt.fim_rate = 1;
  opt.repo_context_rate = 1;
  std::mt19937_64 rng(3);
  Sample s = BuildSample(**tok, opt,
                         {"pkg/b.py", "def b():\n    return a() + 2\n", "python", "myrepo",
                          {{"pkg/a.py", "def a():\n    return 1\n"}}},
                         rng);
  ASSERT_TRUE(s.repo_context);
  EXPECT_EQ(Count(s, repo_id), 0u);
  EXPECT_EQ(Count(s, sep_id), 0u);
  const std::string all = (*tok)->Decode(s.tokens);
  EXPECT_EQ(all.rfind("\n\n--- snippet ---\n\ndef a():\n    return 1\n<|fim_prefix|>", 0), 0u) << all;
  const size_t prefix = std::find(s.tokens.begin(), s.tokens.end(), *(*tok)->fim().prefix) - s.tokens.begin();
  for (size_t i = 0; i < prefix; ++i) EXPECT_EQ(s.loss_mask[i], 0) << i;
}

TEST(FimTest, TokenizerWithoutFimTokensFallsBackToPlain) {
  auto tok = tokenizer::Tokenizer::Load(FixturePath("tiny-llama/tokenizer.model"));
  ASSERT_TRUE(tok.ok()) << tok.status();
  ASSERT_FALSE((*tok)->fim().available());
  FimOptions opt;
  opt.fim_rate = 1;
  std::mt19937_64 rng(1);
  Sample s = BuildSample(**tok, opt, {"a.py", "x = 1\n", "python", "r", {}}, rng);
  EXPECT_EQ(s.kind, SampleKind::kPlain);
  EXPECT_TRUE(s.fim_unavailable);
  EXPECT_FALSE(s.repo_context);
}

}  // namespace
}  // namespace tune::data
