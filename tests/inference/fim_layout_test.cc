// The served FIM prompt is the trained one: for FIM samples that `tune ingest` builds (data/fim.cc:
// repo context, PSM and SPM), an /infill request with the same prefix, suffix, neighbour files and
// file name gives, through llama.cpp's tokenizer on tune's GGUF export, exactly the sample's
// tokens up to <MID> (and in SPM, up to the end of the prefix).
#include <random>
#include <string>
#include <vector>

#include "data/fim.h"
#include "gtest/gtest.h"
#include "inference/fim_prompt.h"
#include "inference/llama_model.h"
#include "tests/inference/test_models.h"
#include "tests/support/temp_dir.h"
#include "tokenizer/tokenizer.h"

namespace tune::inference {
namespace {

constexpr char kFile[] = R"(import os


def total(lines):
    """Sum the amounts of an invoice."""
    s = 0
    for line in lines:
        s += line.amount * line.quantity
    return s


class Invoice:
    def __init__(self, lines):
        self.lines = lines
)";
constexpr char kNeighbour[] = "def helper(x):\n    return x + 1\n";

class FimLayoutTest : public ::testing::TestWithParam<bool> {};

TEST_P(FimLayoutTest, InfillPromptEqualsTheTrainingSampleUpToTheMiddle) {
  const bool spm = GetParam();
  tune::testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<LlamaModel>> model =
      LlamaModel::Load({.path = tune::testing::ExportTinyFimModel(dir.path(), "F32"), .n_gpu_layers = 0, .vocab_only = true});
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> tok =
      tokenizer::Tokenizer::Load(tune::testing::SourcePath("configs/tokenizer/tiny-fim.model"));
  ASSERT_TRUE(tok.ok()) << tok.status();

  data::FimOptions options;
  options.fim_rate = 1;
  options.spm_rate = spm ? 1 : 0;
  options.structured_rate = 0;
  options.repo_context_rate = 1;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    data::SampleInput input{"src/invoice.py", kFile, "python", "shop", {{"src/util.py", kNeighbour}}};
    const data::Sample sample = data::BuildSample(**tok, options, input, rng);
    ASSERT_TRUE(sample.repo_context);

    CompletionRequest r;
    r.kind = PromptKind::kInfill;
    r.input_prefix = std::string(kFile).substr(0, sample.middle_begin);
    r.input_suffix = std::string(kFile).substr(sample.middle_end);
    r.input_extra = {{"src/util.py", kNeighbour}};
    r.filename = "src/invoice.py";
    absl::StatusOr<FimPrompt> served =
        BuildFimPrompt(**model, {.repo_name = "shop", .spm = spm}, {.n_batch = 4096, .n_ctx = 16384, .n_predict = 64}, r);
    ASSERT_TRUE(served.ok()) << served.status();
    ASSERT_FALSE(served->truncated);
    // Training continues with the middle (and, in SPM, starts it right after the prefix).
    ASSERT_LE(served->tokens.size(), sample.tokens.size());
    EXPECT_EQ(served->tokens, std::vector<int32_t>(sample.tokens.begin(), sample.tokens.begin() + served->tokens.size()));
  }
}

INSTANTIATE_TEST_SUITE_P(PsmAndSpm, FimLayoutTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "spm" : "psm"; });

}  // namespace
}  // namespace tune::inference
