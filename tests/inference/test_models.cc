#include "tests/inference/test_models.h"

#include <optional>

#include "export/gguf_export.h"
#include "formats/safetensors.h"
#include "gtest/gtest.h"
#include "model/generate.h"
#include "model/model_options.h"
#include "tests/support/temp_dir.h"

namespace tune::testing {

std::filesystem::path ExportTinyModel(const std::filesystem::path& dir, const std::string& name,
                                      const std::string& quant, bool with_adapter, bool adapter_only) {
  exporter::ExportOptions o;
  o.base = FixturePath(name);
  if (with_adapter) o.adapter = o.base / "adapter";
  o.quant = quant;
  o.adapter_only = adapter_only;
  o.threads = 1;
  o.out = dir / (name + "-" + (adapter_only ? std::string("lora") : quant) +
                 (with_adapter && !adapter_only ? "-merged" : "") + ".gguf");
  absl::StatusOr<exporter::ExportReport> report = exporter::RunExport(o);
  EXPECT_TRUE(report.ok()) << report.status();
  return o.out;
}

std::filesystem::path ExportTinyFimModel(const std::filesystem::path& dir, const std::string& quant) {
  const std::filesystem::path base = dir / "tiny-fim-hf";
  std::filesystem::create_directories(base);
  for (const char* file : {"config.json", "model.safetensors"}) {
    std::filesystem::copy_file(FixturePath("tiny-qwen2") / file, base / file,
                               std::filesystem::copy_options::overwrite_existing);
  }
  std::filesystem::copy_file(SourcePath("configs/tokenizer/tiny-fim.model"), base / "tokenizer.model",
                             std::filesystem::copy_options::overwrite_existing);
  exporter::ExportOptions o;
  o.base = base;
  o.quant = quant;
  o.threads = 1;
  o.out = dir / ("tiny-fim-" + quant + ".gguf");
  absl::StatusOr<exporter::ExportReport> report = exporter::RunExport(o);
  EXPECT_TRUE(report.ok()) << report.status();
  return o.out;
}

std::vector<int32_t> TuneGreedy(const std::string& name, const std::vector<int32_t>& prompt, int64_t n,
                                bool with_adapter) {
  model::ModelOptions options;
  options.base = FixturePath(name);
  std::optional<std::filesystem::path> adapter;
  if (with_adapter) adapter = FixturePath(name) / "adapter";
  absl::StatusOr<model::Transformer> m = model::LoadModel(options, adapter, model::LoraMode::kUnmerged);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return {};
  return model::GreedyGenerate(*m, prompt, {.max_new_tokens = n, .stop_token = std::nullopt, .stop_after = {}});
}

std::vector<int32_t> GreedyPrompt(const std::string& name) {
  absl::StatusOr<formats::SafetensorsCheckpoint> ref =
      formats::SafetensorsCheckpoint::OpenFile(FixturePath(name) / "reference.safetensors");
  EXPECT_TRUE(ref.ok()) << ref.status();
  const formats::TensorView* t = ref->Find("greedy_prompt");
  EXPECT_NE(t, nullptr);
  const auto* ids = reinterpret_cast<const int64_t*>(t->data);
  return std::vector<int32_t>(ids, ids + t->numel());
}

std::unique_ptr<inference::Engine> StartTestEngine(const std::filesystem::path& model,
                                                   std::vector<inference::LoraSpec> loras,
                                                   int32_t slots, int32_t slot_ctx, int32_t batch,
                                                   const std::filesystem::path& index) {
  inference::EngineOptions o;
  o.index = index;
  o.model.path = model;
  o.loras = std::move(loras);
  o.n_slots = slots;
  o.n_ctx = slot_ctx * slots;
  o.n_threads = 1;
  o.n_batch = batch;
  o.n_ubatch = batch;
  absl::StatusOr<std::unique_ptr<inference::Engine>> e = inference::Engine::Start(o);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? std::move(*e) : nullptr;
}

}  // namespace tune::testing
