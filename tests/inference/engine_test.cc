// The runner against tune's own LibTorch model and against real llama.cpp: on tune's F32 export
// of each fixture the runner's greedy tokens equal `tune debug generate` on the Hugging Face
// directory, with the LoRA applied at run time too; on Q8_0 they equal llama.cpp's (node-llama-cpp)
// on the same file. Then the prompt cache (prefix and chunk reuse), continuous batching, reload,
// and bad input.
#include "inference/engine.h"

#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gguf/node_tools.h"
#include "tests/inference/test_models.h"
#include "tests/support/temp_dir.h"

namespace tune::inference {
namespace {

using ::testing::HasSubstr;
using ::tune::testing::TempDir;

std::unique_ptr<Engine> StartEngine(const std::filesystem::path& model, std::vector<LoraSpec> loras = {},
                                    int32_t slots = 1) {
  return testing::StartTestEngine(model, std::move(loras), slots, /*slot_ctx=*/512, /*batch=*/256);
}

CompletionRequest GreedyTokens(std::vector<int32_t> prompt, int32_t n) {
  CompletionRequest r;
  r.kind = PromptKind::kTokens;
  r.prompt_tokens = std::move(prompt);
  r.n_predict = n;
  r.ignore_eos = true;
  r.return_tokens = true;
  r.sampling.temperature = 0;
  return r;
}

std::vector<int32_t> Generate(Engine& engine, CompletionRequest r) {
  absl::StatusOr<std::vector<CompletionResult>> out = engine.Run(std::move(r));
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? out->front().tokens : std::vector<int32_t>{};
}

class RunnerParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  TempDir dir_;
};

TEST_P(RunnerParityTest, F32ExportGreedyEqualsTuneOnTheHuggingFaceDirectory) {
  const std::vector<int32_t> prompt = testing::GreedyPrompt(GetParam());
  auto engine = StartEngine(testing::ExportTinyModel(dir_.path(), GetParam(), "F32", false));
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(Generate(*engine, GreedyTokens(prompt, 16)), testing::TuneGreedy(GetParam(), prompt, 16, false));
}

TEST_P(RunnerParityTest, RunTimeLoraGreedyEqualsTuneWithTheAdapter) {
  const std::vector<int32_t> prompt = testing::GreedyPrompt(GetParam());
  const auto base = testing::ExportTinyModel(dir_.path(), GetParam(), "F32", false);
  const auto lora = testing::ExportTinyModel(dir_.path(), GetParam(), "F32", true, /*adapter_only=*/true);
  auto engine = StartEngine(base, {{lora, 1.0f}});
  ASSERT_NE(engine, nullptr);
  const std::vector<int32_t> with_adapter = testing::TuneGreedy(GetParam(), prompt, 16, true);
  EXPECT_EQ(Generate(*engine, GreedyTokens(prompt, 16)), with_adapter);
  // Scale 0 per request: the base model's tokens, from the same server.
  CompletionRequest off = GreedyTokens(prompt, 16);
  off.lora = std::vector<LoraScale>{{0, 0.0f}};
  EXPECT_EQ(Generate(*engine, off), testing::TuneGreedy(GetParam(), prompt, 16, false));
}

TEST_P(RunnerParityTest, Q8_0GreedyEqualsLlamaCppOnTheSameFile) {
  const std::string missing = testing::NodeToolsMissingReason();
  if (!missing.empty()) GTEST_SKIP() << missing;
  const std::vector<int32_t> prompt = testing::GreedyPrompt(GetParam());
  const auto q8 = testing::ExportTinyModel(dir_.path(), GetParam(), "Q8_0", true);
  auto engine = StartEngine(q8);
  ASSERT_NE(engine, nullptr);
  absl::StatusOr<std::vector<int64_t>> theirs =
      testing::LlamaCppGreedy(q8, std::vector<int64_t>(prompt.begin(), prompt.end()), 16);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  const std::vector<int32_t> ours = Generate(*engine, GreedyTokens(prompt, 16));
  EXPECT_EQ(std::vector<int64_t>(ours.begin(), ours.end()), *theirs);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, RunnerParityTest,
                         ::testing::Values("tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-starcoder2"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param.substr(std::string_view("tiny-").size());
                         });

class RunnerTest : public ::testing::Test {
 protected:
  std::filesystem::path Model() { return testing::ExportTinyModel(dir_.path(), "tiny-qwen2", "F32", true); }
  static std::vector<int32_t> Prompt(int32_t n, int32_t seed) {
    std::vector<int32_t> p;
    for (int32_t i = 0; i < n; ++i) p.push_back(3 + (i * 37 + seed * 101) % 500);
    return p;
  }
  TempDir dir_;
};

TEST_F(RunnerTest, RepeatedPromptIsServedFromTheSlotCache) {
  auto engine = StartEngine(Model());
  const std::vector<int32_t> prompt = Prompt(100, 1);
  absl::StatusOr<std::vector<CompletionResult>> first = engine->Run(GreedyTokens(prompt, 8));
  absl::StatusOr<std::vector<CompletionResult>> second = engine->Run(GreedyTokens(prompt, 8));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->front().timings.cache_n, 0);
  EXPECT_EQ(second->front().timings.cache_n, 99);  // one token is always evaluated again
  EXPECT_EQ(second->front().timings.prompt_n, 1);
  EXPECT_EQ(second->front().tokens, first->front().tokens);
}

TEST_F(RunnerTest, DeletedLineReusesTheRestByKvShift) {
  auto engine = StartEngine(Model());
  const std::vector<int32_t> head = Prompt(40, 2), tail = Prompt(120, 3);
  std::vector<int32_t> before = head;
  before.insert(before.end(), {7, 8, 9, 10, 11, 12});  // a line that the edit deletes
  before.insert(before.end(), tail.begin(), tail.end());
  std::vector<int32_t> after = head;
  after.insert(after.end(), tail.begin(), tail.end());
  ASSERT_TRUE(engine->Run(GreedyTokens(before, 4)).ok());
  CompletionRequest edited = GreedyTokens(after, 12);
  edited.n_cache_reuse = 16;
  absl::StatusOr<std::vector<CompletionResult>> reused = engine->Run(edited);
  ASSERT_TRUE(reused.ok()) << reused.status();
  // head (40) + the 120-token tail moved down by 6 positions; the last token computed again.
  EXPECT_EQ(reused->front().timings.cache_n, 40 + 120 - 1);
  EXPECT_EQ(reused->front().timings.prompt_n, 1);
  ASSERT_EQ(reused->front().tokens.size(), 12u);
  // The moved K/V were computed after the deleted line, as with llama.cpp's --cache-reuse: the
  // reply may differ from a cold run's, so the agreement is reported, not asserted.
  auto cold = StartEngine(Model());
  const std::vector<int32_t> fresh = Generate(*cold, GreedyTokens(after, 12));
  size_t agree = 0;
  while (agree < fresh.size() && fresh[agree] == reused->front().tokens[agree]) ++agree;
  std::printf("chunk reuse: %zu of 12 greedy tokens equal a cold run's\n", agree);
  // Without chunk reuse everything after the deleted line is computed, and the reply is exact.
  ASSERT_TRUE(engine->Run(GreedyTokens(before, 4)).ok());
  edited.n_cache_reuse = 0;
  absl::StatusOr<std::vector<CompletionResult>> prefix_only = engine->Run(edited);
  ASSERT_TRUE(prefix_only.ok());
  EXPECT_EQ(prefix_only->front().timings.prompt_n, 120);
  EXPECT_EQ(prefix_only->front().tokens, fresh);
}

TEST_F(RunnerTest, EditInTheMiddleComputesOnlyTheEditOnAOneSlotServer) {
  const std::vector<int32_t> head = Prompt(40, 2), tail = Prompt(120, 3);
  std::vector<int32_t> before = head, after = head;
  before.insert(before.end(), {7, 8, 9, 10, 11, 12});  // a line that the edit replaces
  before.insert(before.end(), tail.begin(), tail.end());
  after.insert(after.end(), {300, 301});
  after.insert(after.end(), tail.begin(), tail.end());
  CompletionRequest edited = GreedyTokens(after, 12);
  edited.n_cache_reuse = 16;
  auto cold = StartEngine(Model());
  const std::vector<int32_t> fresh = Generate(*cold, GreedyTokens(after, 12));
  for (int32_t slots : {1, 2}) {
    SCOPED_TRACE(slots);
    auto engine = StartEngine(Model(), {}, slots);
    ASSERT_TRUE(engine->Run(GreedyTokens(before, 4)).ok());
    absl::StatusOr<std::vector<CompletionResult>> reused = engine->Run(edited);
    ASSERT_TRUE(reused.ok()) << reused.status();
    ASSERT_EQ(reused->front().tokens.size(), 12u);
    if (slots == 1) {
      // The tail is parked while the 2-token edit is computed, then shifted up by... down by 4.
      EXPECT_EQ(reused->front().timings.cache_n, 40 + 120 - 1);
      EXPECT_EQ(reused->front().timings.prompt_n, 3);
      size_t agree = 0;
      while (agree < fresh.size() && fresh[agree] == reused->front().tokens[agree]) ++agree;
      std::printf("edit reuse: %zu of 12 greedy tokens equal a cold run's\n", agree);
    } else {
      // Several slots have a KV buffer each and no scratch sequence: everything after the edit.
      EXPECT_EQ(reused->front().timings.cache_n, 40);
      EXPECT_EQ(reused->front().tokens, fresh);
    }
    // The slot keeps working on the cache it was left with.
    absl::StatusOr<std::vector<CompletionResult>> again = engine->Run(GreedyTokens(after, 12));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->front().timings.prompt_n, 1);
    EXPECT_EQ(again->front().tokens, reused->front().tokens);
  }
}

TEST_F(RunnerTest, ConcurrentRequestsInFourSlotsEqualOneAtATime) {
  const std::filesystem::path model = Model();
  auto batched = StartEngine(model, {}, 4);
  auto single = StartEngine(model, {}, 1);
  std::vector<std::shared_ptr<CompletionStream>> streams;
  for (int32_t i = 0; i < 4; ++i) streams.push_back(batched->Submit(GreedyTokens(Prompt(20 + 30 * i, i), 16)));
  for (int32_t i = 0; i < 4; ++i) {
    std::vector<int32_t> got;
    while (std::optional<StreamEvent> e = streams[static_cast<size_t>(i)]->Next()) {
      ASSERT_NE(e->kind, StreamEvent::Kind::kError) << e->error;
      if (e->kind == StreamEvent::Kind::kFinal) got = e->final.tokens;
    }
    EXPECT_EQ(got, Generate(*single, GreedyTokens(Prompt(20 + 30 * i, i), 16))) << "request " << i;
  }
  EXPECT_GT(batched->Stats().decode_slots_total, batched->Stats().decode_calls_total);  // really batched
}

TEST_F(RunnerTest, StreamedPiecesAddUpToTheFinalContent) {
  auto engine = StartEngine(Model());
  CompletionRequest r = GreedyTokens(Prompt(30, 4), 24);
  r.stream = true;
  std::shared_ptr<CompletionStream> s = engine->Submit(r);
  std::string streamed, final_content;
  int partials = 0;
  while (std::optional<StreamEvent> e = s->Next()) {
    if (e->kind == StreamEvent::Kind::kPartial) streamed += e->partial.content, ++partials;
    if (e->kind == StreamEvent::Kind::kFinal) final_content = e->final.content;
  }
  EXPECT_GT(partials, 1);
  EXPECT_EQ(streamed, final_content);
}

TEST_F(RunnerTest, CancelledRequestFreesItsSlot) {
  auto engine = StartEngine(Model());
  CompletionRequest r = GreedyTokens(Prompt(30, 5), 400);
  r.stream = true;
  std::shared_ptr<CompletionStream> s = engine->Submit(r);
  ASSERT_TRUE(s->Next().has_value());
  s->Cancel();
  std::optional<StreamEvent> e;
  while ((e = s->Next()) && e->kind == StreamEvent::Kind::kPartial) {
  }
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, StreamEvent::Kind::kError);
  EXPECT_TRUE(absl::IsCancelled(e->error));
  EXPECT_EQ(engine->Stats().requests_cancelled, 1);
  // The slot serves the next request.
  EXPECT_EQ(Generate(*engine, GreedyTokens(Prompt(10, 6), 4)).size(), 4u);
  EXPECT_EQ(engine->Stats().requests_processing, 0);
}

TEST_F(RunnerTest, ReloadSwitchesToTheNewFileContents) {
  const std::filesystem::path served = dir_ / "served.gguf";
  const auto base = testing::ExportTinyModel(dir_.path(), "tiny-qwen2", "F32", false);
  const auto merged = Model();
  std::filesystem::copy_file(base, served);
  auto engine = StartEngine(served);
  const std::vector<int32_t> prompt = testing::GreedyPrompt("tiny-qwen2");
  const std::vector<int32_t> before = Generate(*engine, GreedyTokens(prompt, 16));
  std::filesystem::copy_file(merged, dir_ / "next.gguf");
  std::filesystem::rename(dir_ / "next.gguf", served);  // what `tune retrain` does: an atomic swap
  ASSERT_TRUE(engine->Reload().ok());
  EXPECT_EQ(engine->Info().reloads, 1);
  EXPECT_EQ(before, testing::TuneGreedy("tiny-qwen2", prompt, 16, false));
  EXPECT_EQ(Generate(*engine, GreedyTokens(prompt, 16)), testing::TuneGreedy("tiny-qwen2", prompt, 16, true));
}

TEST_F(RunnerTest, OutOfVocabularyTokenIsAnError) {
  auto engine = StartEngine(Model());
  absl::StatusOr<std::vector<CompletionResult>> out = engine->Run(GreedyTokens({1, 2, 512}, 4));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("512"));
}

TEST_F(RunnerTest, DamagedGgufIsAnErrorNamingTheFile) {
  const std::filesystem::path bad = dir_ / "bad.gguf";
  {
    std::ofstream out(bad, std::ios::binary);
    out << "GGUF\x03\x00\x00\x00garbage";
  }
  EngineOptions o;
  o.model.path = bad;
  absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Start(o);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("bad.gguf"));
}

TEST_F(RunnerTest, LoraOfAnotherBaseIsRefused) {
  const auto lora = testing::ExportTinyModel(dir_.path(), "tiny-qwen3", "F32", true, /*adapter_only=*/true);
  EngineOptions o;
  o.model.path = Model();
  o.loras = {{lora, 1.0f}};
  absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Start(o);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("LoRA"));
}

}  // namespace
}  // namespace tune::inference
