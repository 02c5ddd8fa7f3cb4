// Loading Hugging Face checkpoints: sharded and bf16 files, both rope_theta layouts, and every
// kind of bad input getting a clear error instead of a crash or a wrong model.
#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "formats/safetensors.h"
#include "model/lora.h"
#include "model/tensor_io.h"
#include "model/transformer.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tensor_testing.h"

namespace tune::model {
namespace {

using ::testing::HasSubstr;
using tune::testing::FixturePath;
using tune::testing::TempDir;
using tune::testing::TensorNear;
using tune::testing::WriteTestFile;

std::filesystem::path TinyLlama() { return FixturePath("tiny-llama"); }

// Copies config.json of `from` into `to` and rewrites its tensors with `write`.
void CopyConfig(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::create_directories(to);
  std::filesystem::copy_file(from / "config.json", to / "config.json");
}

std::vector<std::pair<std::string, at::Tensor>> FixtureTensors(const std::filesystem::path& dir,
                                                               at::ScalarType dtype) {
  auto ckpt = formats::SafetensorsCheckpoint::Open(dir);
  EXPECT_TRUE(ckpt.ok()) << ckpt.status();
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const std::string& name : ckpt->names()) out.push_back({name, ToTensor(*ckpt->Find(name), dtype).value()});
  return out;
}

at::Tensor Ids() { return at::arange(1, 25, at::kLong).unsqueeze(0) * 7 % 512; }

at::Tensor LogitsOf(const std::filesystem::path& dir) {
  auto model = Transformer::Load(dir, {});
  EXPECT_TRUE(model.ok()) << model.status();
  return model->Forward(Ids());
}

std::string SafetensorsBytes(const std::string& header_json, size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t n = header_json.size();
  std::memcpy(out.data(), &n, 8);
  return out + header_json + std::string(data_bytes, '\0');
}

TEST(LoaderTest, ShardedCheckpointEqualsSingleFile) {
  TempDir tmp;
  CopyConfig(TinyLlama(), tmp.path());
  auto tensors = FixtureTensors(TinyLlama(), at::kFloat);
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  std::vector<std::pair<std::string, at::Tensor>> shards[2];
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::string shard = absl::StrFormat("model-%05d-of-00002.safetensors", i % 2 + 1);
    shards[i % 2].push_back(tensors[i]);
    index["weight_map"][tensors[i].first] = shard;
  }
  ASSERT_TRUE(WriteSafetensors(tmp / "model-00001-of-00002.safetensors", shards[0]).ok());
  ASSERT_TRUE(WriteSafetensors(tmp / "model-00002-of-00002.safetensors", shards[1]).ok());
  WriteTestFile(tmp / "model.safetensors.index.json", index.dump());
  EXPECT_TRUE(TensorNear(LogitsOf(tmp.path()), LogitsOf(TinyLlama()), 0.0));
}

TEST(LoaderTest, Bf16CheckpointLoadsAsItsRoundedValues) {
  TempDir tmp;
  CopyConfig(TinyLlama(), tmp.path());
  ASSERT_TRUE(WriteSafetensors(tmp / "model.safetensors", FixtureTensors(TinyLlama(), at::kBFloat16)).ok());
  auto bf16 = Transformer::Load(tmp.path(), {});
  auto f32 = Transformer::Load(TinyLlama(), {});
  ASSERT_TRUE(bf16.ok() && f32.ok());
  auto a = bf16->Linears(), b = f32->Linears();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i].linear->weight, b[i].linear->weight.to(at::kBFloat16).to(at::kFloat)))
        << a[i].name;
  }
  // Loading in bf16 as the compute dtype keeps the bits.
  auto native = Transformer::Load(tmp.path(), {.dtype = at::kBFloat16});
  ASSERT_TRUE(native.ok());
  EXPECT_EQ(native->dtype(), at::kBFloat16);
  EXPECT_TRUE(TensorNear(native->Forward(Ids()), bf16->Forward(Ids()), 0.1));
}

TEST(LoaderTest, TopLevelRopeThetaEqualsRopeParameters) {
  TempDir tmp;
  std::filesystem::copy_file(TinyLlama() / "model.safetensors", tmp / "model.safetensors");
  nlohmann::json config = nlohmann::json::parse(core::ReadFile(TinyLlama() / "config.json").value());
  config["rope_theta"] = config["rope_parameters"]["rope_theta"];
  config.erase("rope_parameters");
  WriteTestFile(tmp / "config.json", config.dump());
  EXPECT_TRUE(TensorNear(LogitsOf(tmp.path()), LogitsOf(TinyLlama()), 0.0));
  // And the theta is really read: another value changes the logits.
  config["rope_theta"] = 500.0;
  WriteTestFile(tmp / "config.json", config.dump());
  EXPECT_FALSE(TensorNear(LogitsOf(tmp.path()), LogitsOf(TinyLlama()), 1e-3));
}

TEST(LoaderTest, TruncatedFileIsDataLossNamingTheFile) {
  TempDir tmp;
  CopyConfig(TinyLlama(), tmp.path());
  std::string bytes = core::ReadFile(TinyLlama() / "model.safetensors").value();
  WriteTestFile(tmp / "model.safetensors", bytes.substr(0, bytes.size() / 2));
  auto model = Transformer::Load(tmp.path(), {});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("model.safetensors"));
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("outside"));
}

TEST(LoaderTest, HeaderSizeBeyondFileIsDataLoss) {
  TempDir tmp;
  std::string bytes = SafetensorsBytes("{}", 0);
  uint64_t huge = 1ull << 40;
  std::memcpy(bytes.data(), &huge, 8);
  WriteTestFile(tmp / "x.safetensors", bytes);
  auto file = formats::SafetensorsFile::Open(tmp / "x.safetensors");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss);
  WriteTestFile(tmp / "y.safetensors", "abc");
  EXPECT_EQ(formats::SafetensorsFile::Open(tmp / "y.safetensors").status().code(), absl::StatusCode::kDataLoss);
}

TEST(LoaderTest, HeaderLyingAboutOffsetsIsDataLoss) {
  TempDir tmp;
  struct Case {
    std::string header;
    size_t data;
    std::string message;
  } cases[] = {
      {R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,64]}})", 16, "outside"},
      {R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}})", 16, "need 16"},
      {R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[8,0]}})", 16, "outside"},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", 32, "overlap"},
      {R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", 16, "bad shape"},
      {R"({"w":{"dtype":"F32"}})", 16, "lacks"},
      {R"([1,2])", 0, "not a JSON object"},
      {R"({"w":)", 0, "not a JSON object"},
  };
  for (const Case& c : cases) {
    WriteTestFile(tmp / "x.safetensors", SafetensorsBytes(c.header, c.data));
    auto file = formats::SafetensorsFile::Open(tmp / "x.safetensors");
    ASSERT_FALSE(file.ok()) << c.header;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss) << c.header;
    EXPECT_THAT(std::string(file.status().message()), HasSubstr(c.message)) << c.header;
  }
}

TEST(LoaderTest, UnknownDtypeIsUnimplemented) {
  TempDir tmp;
  WriteTestFile(tmp / "x.safetensors",
                SafetensorsBytes(R"({"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", 4));
  auto file = formats::SafetensorsFile::Open(tmp / "x.safetensors");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("F8_E4M3"));
}

TEST(LoaderTest, MissingShardIsNotFound) {
  TempDir tmp;
  CopyConfig(TinyLlama(), tmp.path());
  WriteTestFile(tmp / "model.safetensors.index.json",
                R"({"weight_map":{"model.embed_tokens.weight":"model-00001-of-00002.safetensors"}})");
  auto model = Transformer::Load(tmp.path(), {});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("model-00001-of-00002.safetensors"));
}

TEST(LoaderTest, NoWeightsIsNotFound) {
  TempDir tmp;
  CopyConfig(TinyLlama(), tmp.path());
  EXPECT_EQ(Transformer::Load(tmp.path(), {}).status().code(), absl::StatusCode::kNotFound);
}

TEST(LoaderTest, MissingTensorIsDataLossNamingIt) {
  TempDir tmp;
  CopyConfig(TinyLlama(), tmp.path());
  auto tensors = FixtureTensors(TinyLlama(), at::kFloat);
  std::erase_if(tensors, [](const auto& t) { return t.first == "model.layers.1.mlp.up_proj.weight"; });
  ASSERT_TRUE(WriteSafetensors(tmp / "model.safetensors", tensors).ok());
  auto model = Transformer::Load(tmp.path(), {});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("model.layers.1.mlp.up_proj.weight"));
}

TEST(LoaderTest, ShapeMismatchIsDataLossNamingTensorAndShapes) {
  TempDir tmp;
  std::filesystem::copy_file(TinyLlama() / "model.safetensors", tmp / "model.safetensors");
  nlohmann::json config = nlohmann::json::parse(core::ReadFile(TinyLlama() / "config.json").value());
  config["intermediate_size"] = 96;
  WriteTestFile(tmp / "config.json", config.dump());
  auto model = Transformer::Load(tmp.path(), {});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("[128, 64], config.json implies [96, 64]"));
}

TEST(LoaderTest, AdapterForAnotherBaseIsFailedPrecondition) {
  auto model = Transformer::Load(TinyLlama(), {});
  ASSERT_TRUE(model.ok());
  // starcoder2's adapter targets c_fc / c_proj, which a llama model does not have.
  auto other = LoraAdapter::Load(FixturePath("tiny-starcoder2/adapter"), at::kFloat);
  ASSERT_TRUE(other.ok()) << other.status();
  absl::Status s = ApplyLora(*model, *other, LoraMode::kUnmerged);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("another base model"));
  // qwen3's adapter has the right module names but head_dim 32 shapes.
  auto qwen3 = LoraAdapter::Load(FixturePath("tiny-qwen3/adapter"), at::kFloat);
  ASSERT_TRUE(qwen3.ok());
  s = ApplyLora(*model, *qwen3, LoraMode::kMerged);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("features"));
  // Nothing was changed by the refused adapters.
  EXPECT_TRUE(TensorNear(model->Forward(Ids()), LogitsOf(TinyLlama()), 0.0));
}

TEST(LoaderTest, AdapterWithRankMismatchIsDataLoss) {
  TempDir tmp;
  std::filesystem::copy_file(FixturePath("tiny-llama/adapter/adapter_model.safetensors"),
                             tmp / "adapter_model.safetensors");
  nlohmann::json config = nlohmann::json::parse(
      core::ReadFile(FixturePath("tiny-llama/adapter/adapter_config.json")).value());
  config["r"] = 4;
  WriteTestFile(tmp / "adapter_config.json", config.dump());
  auto adapter = LoraAdapter::Load(tmp.path(), at::kFloat);
  EXPECT_EQ(adapter.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(adapter.status().message()), HasSubstr("r=4"));
  config["r"] = 8;
  config["use_dora"] = true;
  WriteTestFile(tmp / "adapter_config.json", config.dump());
  EXPECT_EQ(LoraAdapter::Load(tmp.path(), at::kFloat).status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace tune::model
