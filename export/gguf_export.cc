#include "export/gguf_export.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "train/run_info.h"
#include "export/adapter_export.h"
#include "export/modelfile.h"
#include "export/tokenizer_metadata.h"
#include "gguf/arch.h"
#include "gguf/gguf_writer.h"
#include "gguf/quant_mix.h"
#include "gguf/quants.h"
#include "model/model_config.h"
#include "nlohmann/json.hpp"
#include "tokenizer/tokenizer.h"

namespace tune::exporter {
namespace {

using gguf::GgmlType;
using gguf::GgufWriter;

struct BaseModel {
  model::ModelConfig config;
  gguf::Arch arch;
  gguf::HParams hp;
};

absl::StatusOr<BaseModel> ReadBaseModel(const std::filesystem::path& dir) {
  BaseModel m;
  TUNE_ASSIGN_OR_RETURN(m.config, model::LoadModelConfig(dir));
  const model::ModelConfig& c = m.config;
  TUNE_ASSIGN_OR_RETURN(m.arch, gguf::ArchFromModelType(model::ArchName(c.arch)));
  m.hp = {.n_layer = static_cast<uint32_t>(c.num_layers),
          .n_ctx = static_cast<uint32_t>(c.max_position_embeddings),
          .n_embd = static_cast<uint32_t>(c.hidden_size),
          .n_ff = static_cast<uint32_t>(c.intermediate_size),
          .n_head = static_cast<uint32_t>(c.num_heads),
          .n_head_kv = static_cast<uint32_t>(c.num_kv_heads),
          .head_dim = static_cast<uint32_t>(c.head_dim),
          .n_vocab = static_cast<uint32_t>(c.vocab_size),
          .rope_theta = static_cast<float>(c.rope.theta),
          .norm_eps = static_cast<float>(c.norm_eps)};
  return m;
}

// Llama 3.1+ frequency scaling as llama.cpp consumes it: a rope_freqs tensor of per-dimension
// divisors, computed as convert_hf_to_gguf.py's LlamaModel.generate_extra_tensors does.
std::vector<float> Llama3RopeFactors(const model::ModelConfig& c) {
  const model::RopeConfig& r = c.rope;
  const double low_wavelen = r.original_max_position_embeddings / r.low_freq_factor;
  const double high_wavelen = r.original_max_position_embeddings / r.high_freq_factor;
  std::vector<float> factors;
  for (int64_t i = 0; i < c.head_dim; i += 2) {
    const double freq = 1.0 / std::pow(r.theta, static_cast<double>(i) / c.head_dim);
    const double wavelen = 2 * std::numbers::pi / freq;
    if (wavelen < high_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      factors.push_back(static_cast<float>(r.factor));
    } else {
      const double smooth = (r.original_max_position_embeddings / wavelen - r.low_freq_factor) /
                            (r.high_freq_factor - r.low_freq_factor);
      factors.push_back(static_cast<float>(1.0 / ((1 - smooth) / r.factor + smooth)));
    }
  }
  return factors;
}

// general.* provenance: the base, the adapter, and the commit of the data it was trained on
// (from the run.json `tune train` writes beside the adapter, train/run_info.h; left out for
// adapters from elsewhere).
absl::Status SetProvenance(GgufWriter& w, const ExportOptions& o) {
  const std::string base_name = o.base.filename().string();
  TUNE_RETURN_IF_ERROR(w.Set("general.base_model.count", uint32_t{1}));
  TUNE_RETURN_IF_ERROR(w.Set("general.base_model.0.name", base_name));
  if (o.adapter.empty()) return w.Set("general.name", base_name);
  TUNE_RETURN_IF_ERROR(
      w.Set("general.name", absl::StrFormat("%s-%s", base_name, o.adapter.filename().string())));
  TUNE_RETURN_IF_ERROR(w.Set("general.tune.adapter", o.adapter.filename().string()));
  TUNE_RETURN_IF_ERROR(w.Set(
      "general.tune.merged_into",
      std::string(o.merge_target == MergeTarget::kOriginal ? "original" : "nf4_dequantized")));
  absl::StatusOr<train::RunInfo> run = train::ReadRunInfo(o.adapter);
  if (!run.ok() || run->data_commit.empty()) return absl::OkStatus();
  TUNE_RETURN_IF_ERROR(w.Set("general.tune.training_data.repo", run->data_repo_name));
  return w.Set("general.tune.training_data.commit", run->data_commit);
}

absl::StatusOr<ExportReport> ExportAdapter(const ExportOptions& o, const BaseModel& base) {
  if (o.adapter.empty()) {
    return absl::InvalidArgumentError(
        "--adapter-only needs --adapter; hint: pass the PEFT "
        "adapter directory `tune train` wrote");
  }
  TUNE_ASSIGN_OR_RETURN(PeftAdapter adapter, PeftAdapter::Load(o.adapter));
  // Opening validates every module against the base weights' shapes.
  TUNE_ASSIGN_OR_RETURN(MergedWeights checked,
                        MergedWeights::Open(o.base, &adapter, MergeTarget::kOriginal));
  ExportReport report;
  report.out = o.out;
  report.tensors = 2 * static_cast<int64_t>(adapter.modules().size());
  if (o.out.extension() == ".gguf") {
    TUNE_RETURN_IF_ERROR(WriteGgufLoraAdapter(adapter, base.arch, base.hp, o.out));
    report.bytes = std::filesystem::file_size(o.out);
  } else {
    TUNE_RETURN_IF_ERROR(CopyPeftAdapter(o.adapter, o.out));
  }
  return report;
}

absl::StatusOr<ExportReport> ExportModel(const ExportOptions& o, const BaseModel& base,
                                         gguf::FileType ftype) {
  if (o.out.extension() != ".gguf") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--out %s: a model export is one file; hint: name it *.gguf", o.out.string()));
  }
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tok,
                        tokenizer::Tokenizer::Load(o.base));
  std::optional<PeftAdapter> adapter;
  if (!o.adapter.empty()) {
    TUNE_ASSIGN_OR_RETURN(adapter, PeftAdapter::Load(o.adapter));
  }
  TUNE_ASSIGN_OR_RETURN(MergedWeights weights,
                        MergedWeights::Open(o.base, adapter ? &*adapter : nullptr, o.merge_target));
  const formats::SafetensorsCheckpoint& ckpt = weights.checkpoint();

  GgufWriter w;
  TUNE_RETURN_IF_ERROR(gguf::SetArchMetadata(w, base.arch, base.hp));
  const std::string arch(gguf::ArchName(base.arch));
  TUNE_RETURN_IF_ERROR(w.Set("general.type", std::string("model")));
  TUNE_RETURN_IF_ERROR(SetProvenance(w, o));
  TUNE_RETURN_IF_ERROR(w.Set("general.file_type", static_cast<uint32_t>(ftype)));
  TUNE_RETURN_IF_ERROR(w.Set("general.quantization_version", uint32_t{2}));
  const model::RopeConfig& rope = base.config.rope;
  if (rope.scaling == model::RopeScaling::kLinear) {
    TUNE_RETURN_IF_ERROR(w.Set(arch + ".rope.scaling.type", std::string("linear")));
    TUNE_RETURN_IF_ERROR(w.Set(arch + ".rope.scaling.factor", static_cast<float>(rope.factor)));
  }
  TUNE_RETURN_IF_ERROR(SetTokenizerMetadata(w, *tok, base.hp.n_vocab));

  int64_t tensors = 0;
  std::vector<float> rope_factors;  // borrowed by the writer until Write()
  if (rope.scaling == model::RopeScaling::kLlama3) {
    rope_factors = Llama3RopeFactors(base.config);
    TUNE_RETURN_IF_ERROR(w.AddTensor(
        "rope_freqs.weight", GgmlType::kF32, {static_cast<int64_t>(rope_factors.size())},
        std::string_view(reinterpret_cast<const char*>(rope_factors.data()),
                         rope_factors.size() * sizeof(float))));
    ++tensors;
  }
  const gguf::ModelLayout layout{static_cast<int>(base.hp.n_layer),
                                 ckpt.Find("lm_head.weight") != nullptr};
  for (const std::string& hf : ckpt.names()) {
    TUNE_ASSIGN_OR_RETURN(std::optional<std::string> name, gguf::GgufTensorName(base.arch, hf));
    if (!name.has_value()) continue;
    const formats::TensorView* t = ckpt.Find(hf);
    const std::vector<int64_t> ne(t->shape.rbegin(), t->shape.rend());
    const GgmlType type = gguf::TensorTypeFor(ftype, *name, ne, layout);
    const int heads = gguf::QkPermuteHeads(base.arch, *name, base.hp);
    const int64_t rows = ne.size() > 1 ? ne[1] : ne[0];
    const int threads = o.threads;
    TUNE_RETURN_IF_ERROR(w.AddTensor(
        *name, type, ne,
        GgufWriter::TensorSource(
            [&weights, hf, type, ne, heads, rows, threads]() -> absl::StatusOr<std::string> {
              TUNE_ASSIGN_OR_RETURN(std::vector<float> values, weights.ReadF32(hf));
              if (heads > 0) {
                std::vector<float> permuted(values.size());
                gguf::PermuteQkRows(values, rows, static_cast<int64_t>(values.size()) / rows, heads,
                                    permuted);
                values = std::move(permuted);
              }
              return gguf::QuantizeTensor(type, values, ne[0], threads);
            })));
    ++tensors;
  }
  TUNE_RETURN_IF_ERROR(w.Write(o.out));

  ExportReport report;
  report.out = o.out;
  report.tensors = tensors;
  report.bytes = std::filesystem::file_size(o.out);
  report.modelfile = o.out.parent_path() / "Modelfile";
  TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(
      report.modelfile, OllamaModelfile("./" + o.out.filename().string(), *tok)));
  return report;
}

}  // namespace

absl::StatusOr<ExportReport> RunExport(const ExportOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.out.empty()) return absl::InvalidArgumentError("--out is required");
  TUNE_ASSIGN_OR_RETURN(gguf::FileType ftype, gguf::ParseFileType(options.quant));
  TUNE_ASSIGN_OR_RETURN(BaseModel base, ReadBaseModel(options.base));
  absl::StatusOr<ExportReport> report =
      options.adapter_only ? ExportAdapter(options, base) : ExportModel(options, base, ftype);
  if (report.ok()) {
    report->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return report;
}

}  // namespace tune::exporter
