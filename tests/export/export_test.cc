// tune_export against the fixtures' tiny models: the merged GGUF holds exactly the weights
// model::ApplyLora(kMerged) computes (original or NF4-dequantized base), every file type
// writes a valid GGUF, adapter-only exports, tokenizer metadata for SentencePiece and
// byte-level BPE, the Modelfile, and the errors for bad input.
#include <ATen/ATen.h>
#include <sys/mount.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "core/file.h"
#include "export/gguf_export.h"
#include "export/modelfile.h"
#include "export/tokenizer_metadata.h"
#include "gguf/arch.h"
#include "gguf/gguf_reader.h"
#include "gguf/lora_adapter.h"
#include "gguf/quant_mix.h"
#include "gguf/quants.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/model_options.h"
#include "nlohmann/json.hpp"
#include "tests/support/temp_dir.h"
#include "train/run_info.h"
#include "tokenizer/tokenizer.h"

namespace tune::exporter {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::tune::testing::FixturePath;
using ::tune::testing::TempDir;

ExportOptions Options(const std::string& model, const std::string& quant, const fs::path& out,
                      bool with_adapter = true) {
  ExportOptions o;
  o.base = FixturePath(model);
  if (with_adapter) o.adapter = FixturePath(model) / "adapter";
  o.quant = quant;
  o.out = out;
  o.threads = 2;
  return o;
}

std::vector<float> TensorF32(const gguf::GgufFile& file, const std::string& name) {
  const gguf::TensorInfo* t = file.FindTensor(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return {};
  absl::StatusOr<std::vector<float>> v =
      gguf::DequantizeTensor(t->type, file.TensorData(*t), t->ne[0]);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : std::vector<float>{};
}

// Every projection of the model tune runs with the fixture's adapter merged, as llama.cpp
// must see it: GGUF name -> f32 rows, llama's q/k rows permuted.
std::map<std::string, std::vector<float>> ApplyLoraMerged(const std::string& model, bool nf4) {
  model::ModelOptions mo;
  mo.base = FixturePath(model);
  mo.quantize_nf4 = nf4;
  absl::StatusOr<model::Transformer> m =
      model::LoadModel(mo, FixturePath(model) / "adapter", model::LoraMode::kMerged);
  EXPECT_TRUE(m.ok()) << m.status();
  std::map<std::string, std::vector<float>> out;
  if (!m.ok()) return out;
  const gguf::Arch arch = *gguf::ArchFromModelType(model::ArchName(m->config().arch));
  gguf::HParams hp;
  hp.n_head = m->config().num_heads;
  hp.n_head_kv = m->config().num_kv_heads;
  for (model::NamedLinear& nl : m->Linears()) {
    const at::Tensor w = nl.linear->weight.to(at::kFloat).contiguous();
    std::vector<float> rows(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    const std::string name = **gguf::GgufTensorName(arch, nl.name + ".weight");
    if (const int heads = gguf::QkPermuteHeads(arch, name, hp); heads > 0) {
      std::vector<float> permuted(rows.size());
      gguf::PermuteQkRows(rows, w.size(0), w.size(1), heads, permuted);
      rows = std::move(permuted);
    }
    out[name] = std::move(rows);
  }
  return out;
}

class MergedExportTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MergedExportTest, F32EqualsApplyLoraMerged) {
  TempDir dir;
  absl::StatusOr<ExportReport> report = RunExport(Options(GetParam(), "F32", dir / "m.gguf"));
  ASSERT_TRUE(report.ok()) << report.status();
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(dir / "m.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(report->tensors, static_cast<int64_t>(file->tensors().size()));
  EXPECT_EQ(report->bytes, fs::file_size(dir / "m.gguf"));
  const auto expected = ApplyLoraMerged(GetParam(), /*nf4=*/false);
  ASSERT_FALSE(expected.empty());
  for (const auto& [name, rows] : expected) {
    EXPECT_EQ(file->FindTensor(name)->type, gguf::GgmlType::kF32) << name;
    EXPECT_EQ(TensorF32(*file, name), rows) << name;
  }
  EXPECT_EQ(*file->Get<std::string>("general.type"), "model");
  EXPECT_EQ(*file->Get<std::string>("general.architecture"),
            GetParam().substr(std::string_view("tiny-").size()));
  EXPECT_EQ(*file->Get<std::string>("general.name"), GetParam() + "-adapter");
  EXPECT_EQ(*file->Get<std::string>("general.base_model.0.name"), GetParam());
  EXPECT_EQ(*file->Get<std::string>("general.tune.adapter"), "adapter");
  EXPECT_EQ(*file->Get<std::string>("general.tune.merged_into"), "original");
  EXPECT_EQ(*file->Get<uint32_t>("general.file_type"), uint32_t{0});
  // SentencePiece vocabulary from tokenizer.model, as convert_hf_to_gguf.py writes it.
  EXPECT_EQ(*file->Get<std::string>("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(*file->Get<std::string>("tokenizer.ggml.pre"), "default");
  EXPECT_EQ(file->Get<std::vector<std::string>>("tokenizer.ggml.tokens")->size(), 512u);
  EXPECT_EQ(file->Get<std::vector<float>>("tokenizer.ggml.scores")->size(), 512u);
  EXPECT_EQ(file->Get<std::vector<int32_t>>("tokenizer.ggml.token_type")->size(), 512u);
  EXPECT_EQ(*file->Get<uint32_t>("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(*file->Get<uint32_t>("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_EQ(*file->Get<uint32_t>("tokenizer.ggml.unknown_token_id"), 0u);
  EXPECT_TRUE(*file->Get<bool>("tokenizer.ggml.add_bos_token"));
  // The Modelfile beside it loads this file.
  EXPECT_EQ(report->modelfile, dir / "Modelfile");
  absl::StatusOr<std::string> modelfile = core::ReadFile(dir / "Modelfile");
  ASSERT_TRUE(modelfile.ok()) << modelfile.status();
  EXPECT_THAT(*modelfile, HasSubstr("FROM ./m.gguf\n"));
}

TEST_P(MergedExportTest, Nf4MergeEqualsQloraMerged) {
  TempDir dir;
  ExportOptions o = Options(GetParam(), "F32", dir / "m.gguf");
  o.merge_target = MergeTarget::kNf4Dequantized;
  ASSERT_TRUE(RunExport(o).ok());
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(dir / "m.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(*file->Get<std::string>("general.tune.merged_into"), "nf4_dequantized");
  const auto original = ApplyLoraMerged(GetParam(), /*nf4=*/false);
  for (const auto& [name, rows] : ApplyLoraMerged(GetParam(), /*nf4=*/true)) {
    const std::vector<float> got = TensorF32(*file, name);
    EXPECT_EQ(got, rows) << name;
    EXPECT_NE(got, original.at(name)) << name << ": NF4 rounding must show";
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, MergedExportTest,
                         ::testing::Values("tiny-llama", "tiny-qwen2", "tiny-qwen3",
                                           "tiny-starcoder2"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param.substr(std::string_view("tiny-").size());
                         });

TEST(ExportTest, EveryFileTypeWritesItsTensorTypes) {
  TempDir dir;
  for (std::string quant :
       {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"}) {
    SCOPED_TRACE(quant);
    const fs::path out = dir / (quant + ".gguf");
    absl::StatusOr<ExportReport> report = RunExport(Options("tiny-llama", quant, out));
    ASSERT_TRUE(report.ok()) << report.status();
    absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(out);
    ASSERT_TRUE(file.ok()) << file.status();
    const gguf::FileType ftype = *gguf::ParseFileType(quant);
    EXPECT_EQ(*file->Get<uint32_t>("general.file_type"), static_cast<uint32_t>(ftype));
    const gguf::ModelLayout layout{2, /*has_output_weight=*/true};
    for (const gguf::TensorInfo& t : file->tensors()) {
      EXPECT_EQ(t.type, gguf::TensorTypeFor(ftype, t.name, t.ne, layout)) << t.name;
    }
  }
  // Q8_0 stays close to the merged f32 weights.
  absl::StatusOr<gguf::GgufFile> f32 = gguf::GgufFile::Open(dir / "F32.gguf");
  absl::StatusOr<gguf::GgufFile> q8 = gguf::GgufFile::Open(dir / "Q8_0.gguf");
  ASSERT_TRUE(f32.ok() && q8.ok());
  const std::vector<float> a = TensorF32(*f32, "blk.0.ffn_up.weight");
  const std::vector<float> b = TensorF32(*q8, "blk.0.ffn_up.weight");
  ASSERT_EQ(a.size(), b.size());
  double err = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err += (a[i] - b[i]) * (a[i] - b[i]);
    norm += a[i] * a[i];
  }
  EXPECT_LT(err, 1e-4 * norm);
}

TEST(ExportTest, BaseWithoutAdapterKeepsCheckpointWeights) {
  TempDir dir;
  ASSERT_TRUE(RunExport(Options("tiny-qwen2", "F32", dir / "m.gguf", /*with_adapter=*/false)).ok());
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(dir / "m.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->Find("general.tune.adapter"), nullptr);
  EXPECT_EQ(*file->Get<std::string>("general.name"), "tiny-qwen2");
  absl::StatusOr<formats::SafetensorsCheckpoint> ckpt =
      formats::SafetensorsCheckpoint::Open(FixturePath("tiny-qwen2"));
  const formats::TensorView* w = ckpt->Find("model.layers.1.mlp.down_proj.weight");
  const auto* f = reinterpret_cast<const float*>(w->data);
  EXPECT_EQ(TensorF32(*file, "blk.1.ffn_down.weight"), std::vector<float>(f, f + w->numel()));
}

TEST(ExportTest, AdapterOnlyGgufAndPeftCopy) {
  TempDir dir;
  ExportOptions o = Options("tiny-qwen2", "F32", dir / "lora.gguf");
  o.adapter_only = true;
  absl::StatusOr<ExportReport> report = RunExport(o);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->modelfile.empty());
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(dir / "lora.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<gguf::LoraAdapter> lora = gguf::ReadLoraAdapter(*file);
  ASSERT_TRUE(lora.ok()) << lora.status();
  EXPECT_EQ(lora->architecture, "qwen2");
  EXPECT_EQ(lora->alpha, 16.0f);
  EXPECT_EQ(lora->pairs.size(), 14u);
  // lora_a is PEFT's lora_A byte for byte.
  absl::StatusOr<formats::SafetensorsCheckpoint> peft = formats::SafetensorsCheckpoint::OpenFile(
      FixturePath("tiny-qwen2") / "adapter/adapter_model.safetensors");
  const formats::TensorView* a =
      peft->Find("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(file->TensorData(*file->FindTensor("blk.0.attn_v.weight.lora_a")),
            std::string_view(reinterpret_cast<const char*>(a->data), a->nbytes));

  o.out = dir / "peft";
  ASSERT_TRUE(RunExport(o).ok());
  for (const char* name : {"adapter_config.json", "adapter_model.safetensors"}) {
    EXPECT_EQ(*core::ReadFile(dir / "peft" / name),
              *core::ReadFile(FixturePath("tiny-qwen2") / "adapter" / name))
        << name;
  }
}

// A copy of the fixture adapter with adapter_config.json edited by `edit`.
fs::path EditedAdapter(const fs::path& dir, const std::string& model,
                       const std::function<void(nlohmann::json&)>& edit) {
  const fs::path src = FixturePath(model) / "adapter";
  fs::create_directories(dir);
  fs::copy_file(src / "adapter_model.safetensors", dir / "adapter_model.safetensors");
  nlohmann::json config = nlohmann::json::parse(*core::ReadFile(src / "adapter_config.json"));
  edit(config);
  tune::testing::WriteTestFile(dir / "adapter_config.json", config.dump());
  return dir;
}

// llama.cpp has one alpha per file: a per-module scale (alpha_pattern) is folded into lora_b.
TEST(ExportTest, AdapterOnlyGgufFoldsPerModuleScale) {
  TempDir dir;
  ExportOptions o = Options("tiny-qwen2", "F32", dir / "plain.gguf");
  o.adapter_only = true;
  ASSERT_TRUE(RunExport(o).ok());
  o.adapter = EditedAdapter(dir / "patterned", "tiny-qwen2", [](nlohmann::json& c) {
    c["alpha_pattern"] = {{"v_proj", 32}};
  });
  o.out = dir / "patterned.gguf";
  ASSERT_TRUE(RunExport(o).ok());
  absl::StatusOr<gguf::GgufFile> plain = gguf::GgufFile::Open(dir / "plain.gguf");
  absl::StatusOr<gguf::GgufFile> patterned = gguf::GgufFile::Open(dir / "patterned.gguf");
  ASSERT_TRUE(plain.ok() && patterned.ok());
  std::vector<float> doubled = TensorF32(*plain, "blk.1.attn_v.weight.lora_b");
  for (float& x : doubled) x *= 2;
  EXPECT_EQ(TensorF32(*patterned, "blk.1.attn_v.weight.lora_b"), doubled);
  EXPECT_EQ(TensorF32(*patterned, "blk.1.attn_q.weight.lora_b"),
            TensorF32(*plain, "blk.1.attn_q.weight.lora_b"));
}

// Llama 3.1 rope scaling becomes llama.cpp's rope_freqs tensor: one divisor per rotary pair,
// 1 for the high frequencies, `factor` for the low ones, smoothed in between.
TEST(ExportTest, Llama3RopeScalingWritesRopeFreqs) {
  TempDir dir;
  const fs::path model = dir / "llama31";
  fs::create_directories(model);
  for (const char* name : {"model.safetensors", "tokenizer.model"}) {
    fs::create_symlink(FixturePath("tiny-llama") / name, model / name);
  }
  nlohmann::json config =
      nlohmann::json::parse(*core::ReadFile(FixturePath("tiny-llama") / "config.json"));
  config["rope_parameters"] = {{"rope_type", "llama3"},   {"rope_theta", 10000.0},
                               {"factor", 8.0},           {"low_freq_factor", 1.0},
                               {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}};
  tune::testing::WriteTestFile(model / "config.json", config.dump());
  ExportOptions o = Options("tiny-llama", "F32", dir / "m.gguf", /*with_adapter=*/false);
  o.base = model;
  absl::StatusOr<ExportReport> report = RunExport(o);
  ASSERT_TRUE(report.ok()) << report.status();
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(dir / "m.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  const std::vector<float> f = TensorF32(*file, "rope_freqs.weight");
  ASSERT_EQ(f.size(), 8u);  // head_dim 16
  // Pair j has wavelength 2*pi*10000^(j/8) = 6.3, 19.9, 62.8, 199, ...: j = 0 is below
  // 64 / 4 (kept), j >= 3 above 64 (scaled by 8), j = 1, 2 smoothed with
  // s = (64 / wavelength - 1) / 3 to 1 / ((1 - s) / 8 + s).
  EXPECT_EQ(f[0], 1.0f);
  for (int j : {1, 2}) {
    const double s = (64 / (2 * 3.141592653589793 * std::pow(10.0, j / 2.0)) - 1) / 3;
    EXPECT_NEAR(f[j], 1 / ((1 - s) / 8 + s), 1e-5) << j;
  }
  for (size_t i = 3; i < f.size(); ++i) EXPECT_EQ(f[i], 8.0f) << i;
}

// The training data's commit comes from `tune train`'s run.json (train/run_info.h).
TEST(ExportTest, ProvenanceNamesTrainingDataCommit) {
  TempDir dir;
  const fs::path adapter = EditedAdapter(dir / "run", "tiny-qwen2", [](nlohmann::json&) {});
  train::RunInfo run;
  run.base = "tiny-qwen2";
  run.data = (dir / "data").string();
  run.settings_json = "{}";
  run.data_repo_name = "acme";
  run.data_commit = "0123456789abcdef0123456789abcdef01234567";
  ASSERT_TRUE(train::WriteRunInfo(adapter, run).ok());
  ExportOptions o = Options("tiny-qwen2", "Q8_0", dir / "m.gguf");
  o.adapter = adapter;
  ASSERT_TRUE(RunExport(o).ok());
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(dir / "m.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(*file->Get<std::string>("general.name"), "tiny-qwen2-run");
  EXPECT_EQ(*file->Get<std::string>("general.tune.adapter"), "run");
  EXPECT_EQ(*file->Get<std::string>("general.tune.training_data.repo"), "acme");
  EXPECT_EQ(*file->Get<std::string>("general.tune.training_data.commit"), run.data_commit);
}

void ExpectNoFiles(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir)) ADD_FAILURE() << "left " << entry.path();
}

TEST(ExportErrorsTest, AdapterOfAnotherBase) {
  TempDir dir;
  fs::create_directories(dir / "out");
  // starcoder2's c_fc / c_proj modules do not exist in llama.
  ExportOptions o = Options("tiny-llama", "F32", dir / "out/m.gguf");
  o.adapter = FixturePath("tiny-starcoder2") / "adapter";
  absl::StatusOr<ExportReport> r = RunExport(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("another base model"));
  // Same module names, other shapes: qwen3's head_dim is 32, qwen2's 16, so k_proj (the first
  // attention module by name) maps 64 -> 64 features in qwen3 and 64 -> 32 in qwen2's adapter.
  o = Options("tiny-qwen3", "F32", dir / "out/m.gguf");
  o.adapter = FixturePath("tiny-qwen2") / "adapter";
  r = RunExport(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("self_attn.k_proj' maps 64 -> 32"));
  o.adapter_only = true;
  EXPECT_EQ(RunExport(o).status().code(), absl::StatusCode::kFailedPrecondition);
  // A config whose rank disagrees with the tensors.
  o = Options("tiny-llama", "F32", dir / "out/m.gguf");
  o.adapter = EditedAdapter(dir / "rank4", "tiny-llama", [](nlohmann::json& c) { c["r"] = 4; });
  r = RunExport(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("r=4"));
  ExpectNoFiles(dir / "out");
}

TEST(ExportErrorsTest, UnknownQuantType) {
  TempDir dir;
  absl::StatusOr<ExportReport> r = RunExport(Options("tiny-llama", "Q3_XS", dir / "m.gguf"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("Q4_K_M"));
  ExpectNoFiles(dir.path());
}

TEST(ExportErrorsTest, DiskFullLeavesNoFile) {
  TempDir dir;
  const fs::path small = dir / "small";
  fs::create_directories(small);
  // A 64 KiB tmpfs makes ENOSPC real (the F32 export is ~600 KiB); mounting needs root.
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?): " << std::strerror(errno);
  }
  struct Unmount {
    fs::path path;
    ~Unmount() { ::umount(path.c_str()); }
  } unmount{small};
  absl::StatusOr<ExportReport> r = RunExport(Options("tiny-llama", "F32", small / "m.gguf"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  ExpectNoFiles(small);
}

// Byte-level BPE (Qwen3's tokenizer.json): model "gpt2", tokens + merges + pre-tokenizer, FIM
// ids; a tokenizer rebuilt from the written keys encodes like the original.
TEST(TokenizerMetadataTest, ByteLevelBpeRoundTrips) {
  TempDir dir;
  const fs::path json = FixturePath("tokenizers") / "qwen3" / "tokenizer.json";
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> tok = tokenizer::Tokenizer::Load(json);
  ASSERT_TRUE(tok.ok()) << tok.status();
  const uint32_t n_vocab = (*tok)->vocab_size() + 3;  // embedding rows beyond the vocabulary
  gguf::GgufWriter w;
  ASSERT_TRUE(SetTokenizerMetadata(w, **tok, n_vocab).ok());
  ASSERT_TRUE(w.Write(dir / "t.gguf").ok());
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(dir / "t.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(*file->Get<std::string>("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(*file->Get<std::string>("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(file->Find("tokenizer.ggml.scores"), nullptr);
  const auto tokens = *file->Get<std::vector<std::string>>("tokenizer.ggml.tokens");
  const auto types = *file->Get<std::vector<int32_t>>("tokenizer.ggml.token_type");
  ASSERT_EQ(tokens.size(), n_vocab);
  EXPECT_EQ(tokens.back(), absl::StrFormat("[PAD%d]", n_vocab - 1));
  EXPECT_EQ(types.back(), static_cast<int32_t>(tokenizer::TokenType::kUnused));
  const tokenizer::FimTokens& fim = (*tok)->fim();
  ASSERT_TRUE(fim.available());
  EXPECT_EQ(*file->Get<uint32_t>("tokenizer.ggml.fim_pre_token_id"), uint32_t(*fim.prefix));
  EXPECT_EQ(*file->Get<uint32_t>("tokenizer.ggml.fim_suf_token_id"), uint32_t(*fim.suffix));
  EXPECT_EQ(*file->Get<uint32_t>("tokenizer.ggml.fim_mid_token_id"), uint32_t(*fim.middle));
  EXPECT_EQ(*file->Get<uint32_t>("tokenizer.ggml.fim_rep_token_id"), uint32_t(*fim.repo_name));
  EXPECT_EQ(*file->Get<uint32_t>("tokenizer.ggml.fim_sep_token_id"), uint32_t(*fim.file_sep));
  EXPECT_EQ(*file->Get<uint32_t>("tokenizer.ggml.eos_token_id"), uint32_t(*(*tok)->eos_id()));
  EXPECT_EQ(*file->Get<bool>("tokenizer.ggml.add_bos_token"), (*tok)->add_bos());

  tokenizer::VocabData v;
  v.model = tokenizer::ModelKind::kByteLevelBpe;
  v.pre = *file->Get<std::string>("tokenizer.ggml.pre");
  v.tokens.assign(tokens.begin(), tokens.end() - 3);
  for (size_t i = 0; i < v.tokens.size(); ++i) v.types.push_back(tokenizer::TokenType(types[i]));
  v.merges = *file->Get<std::vector<std::string>>("tokenizer.ggml.merges");
  v.eos = *file->Get<uint32_t>("tokenizer.ggml.eos_token_id");
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> rebuilt =
      tokenizer::Tokenizer::FromVocab(std::move(v));
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  const std::string code = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n";
  EXPECT_EQ((*rebuilt)->Encode(code), (*tok)->Encode(code));
}

TEST(ModelfileTest, FimTemplateAndStops) {
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> tok =
      tokenizer::Tokenizer::Load(FixturePath("tokenizers") / "qwen3" / "tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::string m = OllamaModelfile("./coder-Q4_K_M.gguf", **tok);
  EXPECT_THAT(m, HasSubstr("FROM ./coder-Q4_K_M.gguf\n"));
  EXPECT_THAT(m, HasSubstr("TEMPLATE \"\"\"{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}"
                           "<|fim_suffix|>{{ .Suffix }}<|fim_middle|>\n{{- else }}{{ .Prompt }}\n"
                           "{{- end }}\"\"\"\n"));
  EXPECT_THAT(m, HasSubstr("PARAMETER stop \"<|fim_pad|>\"\n"));
  EXPECT_THAT(m, HasSubstr("PARAMETER stop \"<|file_sep|>\"\n"));
  EXPECT_THAT(m, HasSubstr("PARAMETER stop \"<|repo_name|>\"\n"));
}

}  // namespace
}  // namespace tune::exporter
