#include "eval/benchmark.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "core/file.h"
#include "eval/completer.h"
#include "tests/support/temp_dir.h"

namespace tune::eval {
namespace {

using ::testing::HasSubstr;
using tune::testing::SourcePath;
using tune::testing::TempDir;

std::unique_ptr<tokenizer::Tokenizer> TinyTokenizer() {
  return tokenizer::Tokenizer::Load(SourcePath("configs/tokenizer/tiny-fim.model")).value();
}

data::HeldOutSet SampleSet() {
  data::HeldOutSet set;
  set.commit = "0123456789abcdef0123456789abcdef01234567";
  set.repo_name = "demo";
  for (int f = 0; f < 6; ++f) {
    std::string py;
    for (int i = 0; i < 8; ++i) {
      py += absl::StrFormat("def handler_%d_%d(request, limit=%d):\n    total = compute(request, %d)\n"
                            "    if total > limit:\n        return clamp(total, limit)\n    return total\n\n",
                            f, i, i * 10, i);
    }
    set.files.push_back({absl::StrFormat("pkg/mod_%d.py", f), "python", py, {{"pkg/util.py", "def compute(r, k):\n    return k\n"}}});
  }
  set.files.push_back({"docs/notes.md", "markdown", "# Notes\n\nSome prose about the project here.\nAnd a second line of prose.\nThird.\n", {}});
  return set;
}

TEST(BenchmarkTest, TasksAreDeterministicValidSpansOfEachKind) {
  auto tok = TinyTokenizer();
  BenchmarkOptions options;
  options.tasks_per_kind = 10;
  Benchmark a = BuildBenchmark(SampleSet(), *tok, options).value();
  Benchmark b = BuildBenchmark(SampleSet(), *tok, options).value();
  ASSERT_EQ(a.tasks.size(), b.tasks.size());
  for (size_t i = 0; i < a.tasks.size(); ++i) {
    EXPECT_EQ(a.tasks[i].begin, b.tasks[i].begin);
    EXPECT_EQ(a.middle(a.tasks[i]), b.middle(b.tasks[i]));
  }
  options.seed = 99;
  Benchmark c = BuildBenchmark(SampleSet(), *tok, options).value();
  bool differs = c.tasks.size() != a.tasks.size();
  for (size_t i = 0; !differs && i < a.tasks.size(); ++i) differs = a.tasks[i].begin != c.tasks[i].begin;
  EXPECT_TRUE(differs) << "another seed draws other tasks";

  std::map<std::pair<std::string, TaskKind>, int> counts;
  for (const Task& t : a.tasks) {
    const data::HeldOutFile& f = a.files[t.file];
    ++counts[{f.language, t.kind}];
    ASSERT_LT(t.begin, t.end);
    ASSERT_LE(t.end, f.text.size());
    EXPECT_EQ(std::string(a.prefix(t)) + std::string(a.middle(t)) + std::string(a.suffix(t)), f.text);
    EXPECT_GT(t.max_tokens, 8);
    EXPECT_LE(t.max_tokens, 256);
    const std::string_view middle = a.middle(t);
    switch (t.kind) {
      case TaskKind::kLine:  // the rest of one line
        EXPECT_EQ(middle.find('\n'), std::string_view::npos);
        EXPECT_TRUE(t.end == f.text.size() || f.text[t.end] == '\n');
        break;
      case TaskKind::kBlock:  // whole lines
        EXPECT_NE(middle.find('\n'), std::string_view::npos);
        EXPECT_TRUE(t.begin == 0 || f.text[t.begin - 1] == '\n');
        break;
      case TaskKind::kNode:
        EXPECT_FALSE(t.node.empty());
        EXPECT_NE(t.node, "expression");
        break;
    }
  }
  EXPECT_EQ((counts[{"python", TaskKind::kLine}]), 10);
  EXPECT_EQ((counts[{"python", TaskKind::kBlock}]), 10);
  EXPECT_EQ((counts[{"python", TaskKind::kNode}]), 10);
  EXPECT_GT((counts[{"markdown", TaskKind::kLine}]), 0);
  EXPECT_EQ((counts[{"markdown", TaskKind::kNode}]), 0) << "no grammar, no node tasks";
}

TEST(BenchmarkTest, RequestIsTheServingInfillRequest) {
  auto tok = TinyTokenizer();
  Benchmark b = BuildBenchmark(SampleSet(), *tok, {}).value();
  const Task& t = b.tasks.front();
  inference::CompletionRequest r = TaskRequest(b, t, FimOrder::kSpm);
  EXPECT_EQ(r.kind, inference::PromptKind::kInfill);
  EXPECT_EQ(r.input_prefix + std::string(b.middle(t)) + r.input_suffix, b.files[t.file].text);
  EXPECT_EQ(r.filename, b.files[t.file].path);
  EXPECT_EQ(r.spm_infill, std::optional<bool>(true));
  EXPECT_EQ(r.sampling.temperature, 0.0f);
  EXPECT_EQ(r.n_predict, t.max_tokens);
  ASSERT_EQ(r.input_extra.size(), b.files[t.file].context.size());
  EXPECT_EQ(r.single_line, t.kind == TaskKind::kLine);
}

TEST(BenchmarkTest, LanguageFilterAndEmptyBenchmarkAreClearErrors) {
  auto tok = TinyTokenizer();
  BenchmarkOptions rust;
  rust.languages = {"rust"};
  absl::StatusOr<Benchmark> none = BuildBenchmark(SampleSet(), *tok, rust);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no held-out rust file"));
  EXPECT_THAT(none.status().message(), HasSubstr("markdown, python"));

  data::HeldOutSet blank;
  blank.files.push_back({"a.py", "python", "\n\n", {}});
  absl::StatusOr<Benchmark> empty = BuildBenchmark(blank, *tok, {});
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("the benchmark is empty"));

  BenchmarkOptions python;
  python.languages = {"python"};
  Benchmark only = BuildBenchmark(SampleSet(), *tok, python).value();
  for (const data::HeldOutFile& f : only.files) EXPECT_EQ(f.language, "python");
}

TEST(BenchmarkTest, SavedBenchmarkReadsBackIdentically) {
  TempDir tmp;
  auto tok = TinyTokenizer();
  Benchmark b = BuildBenchmark(SampleSet(), *tok, {}).value();
  ASSERT_TRUE(SaveBenchmark(tmp / "b.json", b).ok());
  Benchmark r = LoadBenchmark(tmp / "b.json").value();
  EXPECT_EQ(r.dataset_commit, b.dataset_commit);
  EXPECT_EQ(r.repo_name, "demo");
  EXPECT_EQ(r.tokenizer_fingerprint, tok->Fingerprint());
  EXPECT_EQ(r.seed, b.seed);
  ASSERT_EQ(r.files.size(), b.files.size());
  ASSERT_EQ(r.tasks.size(), b.tasks.size());
  for (size_t i = 0; i < b.tasks.size(); ++i) {
    EXPECT_EQ(r.middle(r.tasks[i]), b.middle(b.tasks[i]));
    EXPECT_EQ(r.tasks[i].kind, b.tasks[i].kind);
    EXPECT_EQ(r.tasks[i].node, b.tasks[i].node);
    EXPECT_EQ(r.tasks[i].max_tokens, b.tasks[i].max_tokens);
  }
  for (const data::HeldOutFile& f : r.files) {
    if (f.language != "python") continue;
    ASSERT_EQ(f.context.size(), 1u);
    EXPECT_EQ(f.context[0].path, "pkg/util.py");
  }
}

TEST(BenchmarkTest, CorruptBenchmarkFilesNameTheField) {
  TempDir tmp;
  auto tok = TinyTokenizer();
  Benchmark b = BuildBenchmark(SampleSet(), *tok, {}).value();
  ASSERT_TRUE(SaveBenchmark(tmp / "b.json", b).ok());
  const std::string good = core::ReadFile(tmp / "b.json").value();
  auto load_with = [&](const std::string& text) {
    tune::testing::WriteTestFile(tmp / "bad.json", text);
    return LoadBenchmark(tmp / "bad.json").status();
  };
  absl::Status truncated = load_with(good.substr(0, good.size() / 2));
  EXPECT_EQ(truncated.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(truncated.message(), HasSubstr("bad.json"));
  absl::Status version = load_with(absl::StrReplaceAll(good, {{"\"format_version\": 1", "\"format_version\": 7"}}));
  EXPECT_EQ(version.code(), absl::StatusCode::kFailedPrecondition) << version;
  absl::Status span = load_with(absl::StrReplaceAll(good, {{"\"end\": ", "\"end\": 9999999"}}));
  EXPECT_EQ(span.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(span.message(), HasSubstr("tasks[0].end"));
  absl::Status kind = load_with(absl::StrReplaceAll(good, {{"\"kind\": \"line\"", "\"kind\": \"para\""}}));
  EXPECT_THAT(kind.message(), HasSubstr(".kind"));
  absl::Status negative = load_with(absl::StrReplaceAll(good, {{"\"file\": 0", "\"file\": -1"}}));
  EXPECT_EQ(negative.code(), absl::StatusCode::kDataLoss);
  absl::Status fractional = load_with(absl::StrReplaceAll(good, {{"\"max_tokens\": ", "\"max_tokens\": 0.5"}}));
  EXPECT_EQ(fractional.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(LoadBenchmark(tmp / "missing.json").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tune::eval
