#include "nf4/nf4_safetensors.h"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace tune::nf4 {
namespace {

using formats::DType;
using formats::SafetensorsCheckpoint;
using formats::SafetensorsWriter;

constexpr char kName[] = "model.layers.0.mlp.down_proj.weight";

BnbNf4Tensor MakeTensor() {
  BnbNf4Tensor t;
  t.shape = {33, 65};  // odd numel, a partial last block
  std::vector<float> w(33 * 65);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>((i * 7919) % 201) / 100.0f - 1.0f;
  Quantize(w.data(), w.size(), &t.weights);
  return t;
}

std::string Join(std::string_view a, std::string_view b) { return std::string(a) + std::string(b); }

// `t` with quant-state `json` written to `path` as kName's entries, and opened again.
absl::StatusOr<SafetensorsCheckpoint> WriteAndOpen(const BnbNf4Tensor& t, const std::string& json,
                                                   const std::filesystem::path& path) {
  SafetensorsWriter writer;
  TUNE_RETURN_IF_ERROR(AddBnbNf4(kName, t, json, &writer));
  TUNE_RETURN_IF_ERROR(writer.Write(path));
  return SafetensorsCheckpoint::OpenFile(path);
}

TEST(BnbSafetensorsTest, WriteThenReadGivesBackEveryField) {
  const BnbNf4Tensor t = MakeTensor();
  const std::string json = BnbQuantStateJson(t);
  EXPECT_EQ(json, absl::StrFormat(
                      R"({"quant_type":"nf4","blocksize":64,"dtype":"bfloat16","shape":[33,65],)"
                      R"("nested_blocksize":256,"nested_dtype":"float32","nested_offset":%s})",
                      nlohmann::json(static_cast<double>(t.weights.offset)).dump()));
  testing::TempDir dir;
  auto checkpoint = WriteAndOpen(t, json, dir / "model.safetensors");
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->names().size(), 6u);
  const formats::TensorView* packed = checkpoint->Find(kName);
  ASSERT_NE(packed, nullptr);
  EXPECT_EQ(packed->shape, (std::vector<int64_t>{1073, 1}));
  auto read = ReadBnbNf4(*checkpoint, kName);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->shape, t.shape);
  EXPECT_EQ(read->dtype, "bfloat16");
  EXPECT_EQ(read->weights.layout.numel, 33 * 65);
  EXPECT_EQ(read->weights.layout.block, 64);
  EXPECT_EQ(read->weights.layout.nested_block, 256);
  EXPECT_EQ(read->weights.packed, t.weights.packed);
  EXPECT_EQ(read->weights.qabsmax, t.weights.qabsmax);
  EXPECT_EQ(read->weights.absmax2, t.weights.absmax2);
  EXPECT_EQ(read->weights.offset, t.weights.offset);
  EXPECT_EQ(read->weights.nested_code, t.weights.nested_code);
}

TEST(BnbSafetensorsTest, WithoutDoubleQuantizationAbsmaxIsF32) {
  // transformers' default (bnb_4bit_use_double_quant=False): W.absmax is F32, no nested entries.
  BnbNf4Tensor t = MakeTensor();
  t.absmax.resize(t.weights.layout.num_blocks());
  DequantizeAbsmax(t.weights, t.absmax.data());
  t.double_quantized = false;
  const std::string json = BnbQuantStateJson(t);
  EXPECT_EQ(json, R"({"quant_type":"nf4","blocksize":64,"dtype":"bfloat16","shape":[33,65]})");
  testing::TempDir dir;
  auto checkpoint = WriteAndOpen(t, json, dir / "model.safetensors");
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->names().size(), 4u);
  auto read = ReadBnbNf4(*checkpoint, kName);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->double_quantized);
  EXPECT_EQ(read->absmax, t.absmax);
  EXPECT_EQ(read->weights.packed, t.weights.packed);
  // Dequantizing from the f32 absmax gives what the double-quantized original gives.
  std::vector<float> from_plain(33 * 65), from_nested(33 * 65);
  DequantizeCodes(read->weights.packed.data(), read->absmax.data(), read->weights.layout,
                  from_plain.data());
  Dequantize(t.weights, from_nested.data());
  EXPECT_EQ(from_plain, from_nested);
}

TEST(BnbSafetensorsTest, ShapeMustMatchTheQuantizedCount) {
  BnbNf4Tensor t = MakeTensor();
  t.shape = {33, 64};
  SafetensorsWriter writer;
  EXPECT_EQ(AddBnbNf4(kName, t, BnbQuantStateJson(t), &writer).code(),
            absl::StatusCode::kInvalidArgument);
}

// Writes the six entries of MakeTensor(), letting `edit` replace or drop some, and reads back.
absl::Status ReadEdited(
    const std::function<void(std::map<std::string, std::pair<DType, std::string>>&)>& edit) {
  const BnbNf4Tensor t = MakeTensor();
  testing::TempDir dir;
  auto original = WriteAndOpen(t, BnbQuantStateJson(t), dir / "a.safetensors");
  EXPECT_TRUE(original.ok()) << original.status();
  std::map<std::string, std::pair<DType, std::string>> entries;
  for (const std::string& name : original->names()) {
    const formats::TensorView* v = original->Find(name);
    entries[name] = {v->dtype, std::string(reinterpret_cast<const char*>(v->data), v->nbytes)};
  }
  edit(entries);
  SafetensorsWriter writer;
  for (const auto& [name, entry] : entries) {
    const int64_t numel = entry.second.size() / formats::DTypeSize(entry.first);
    EXPECT_TRUE(writer.Add(name, entry.first, {numel}, entry.second).ok());
  }
  EXPECT_TRUE(writer.Write(dir / "b.safetensors").ok());
  auto edited = SafetensorsCheckpoint::OpenFile(dir / "b.safetensors");
  EXPECT_TRUE(edited.ok());
  return ReadBnbNf4(*edited, kName).status();
}

TEST(BnbSafetensorsTest, RejectsWhatItCannotRead) {
  EXPECT_TRUE(ReadEdited([](auto&) {}).ok());
  EXPECT_EQ(ReadEdited([](auto& e) { e.erase(Join(kName, ".nested_absmax")); }).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadEdited([](auto& e) { e[Join(kName, ".quant_map")].second[0] ^= 1; }).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadEdited([](auto& e) { e[kName].second.pop_back(); }).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadEdited([](auto& e) { e[Join(kName, ".absmax")].first = DType::kI8; }).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadEdited([](auto& e) {
              e[Join(kName, ".quant_state.bitsandbytes__nf4")].second = "{not json";
            }).code(),
            absl::StatusCode::kDataLoss);
  // A state without nested_* keys announces f32 absmax; these are U8.
  EXPECT_EQ(ReadEdited([](auto& e) {
              e[Join(kName, ".quant_state.bitsandbytes__nf4")].second =
                  R"({"quant_type":"nf4","blocksize":64,"dtype":"bfloat16","shape":[33,65]})";
            }).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadEdited([](auto& e) {
              std::string& json = e[Join(kName, ".quant_state.bitsandbytes__nf4")].second;
              json.replace(json.find("\"blocksize\":64"), 14, "\"blocksize\":48");
            }).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadEdited([](auto& e) {
              auto node = e.extract(Join(kName, ".quant_state.bitsandbytes__nf4"));
              node.key() = Join(kName, ".quant_state.bitsandbytes__fp4");
              e.insert(std::move(node));
            }).code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ReadEdited([](auto& e) { e.erase(kName); }).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tune::nf4
