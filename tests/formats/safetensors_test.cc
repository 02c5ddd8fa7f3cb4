#include "formats/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "core/file.h"
#include "tests/support/temp_dir.h"

namespace tune::formats {
namespace {

using ::testing::HasSubstr;
using tune::testing::FixturePath;
using tune::testing::TempDir;

TEST(SafetensorsTest, WriterOutputReadsBackWithMetadataAndAlignment) {
  TempDir tmp;
  std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  std::vector<int64_t> b = {42, -1};
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.Add("a", DType::kF32, {2, 3}, {reinterpret_cast<char*>(a.data()), 24}).ok());
  ASSERT_TRUE(writer.Add("b", DType::kI64, {2}, {reinterpret_cast<char*>(b.data()), 16}).ok());
  writer.SetMetadata("format", "pt");
  ASSERT_TRUE(writer.Write(tmp / "t.safetensors").ok());

  auto file = SafetensorsFile::Open(tmp / "t.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata().at("format"), "pt");
  const TensorView* ta = file->Find("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(ta->data, a.data(), 24), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ta->data) % 8, 0u);
  EXPECT_EQ(std::memcmp(file->Find("b")->data, b.data(), 16), 0);
  EXPECT_EQ(file->Find("c"), nullptr);
}

TEST(SafetensorsTest, WriterRejectsSizeMismatchAndDuplicates) {
  SafetensorsWriter writer;
  float x[2] = {};
  EXPECT_EQ(writer.Add("x", DType::kF32, {3}, {reinterpret_cast<char*>(x), 8}).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(writer.Add("x", DType::kF32, {2}, {reinterpret_cast<char*>(x), 8}).ok());
  EXPECT_EQ(writer.Add("x", DType::kF32, {2}, {reinterpret_cast<char*>(x), 8}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SafetensorsTest, ReadsHuggingFaceWrittenFile) {
  auto ckpt = SafetensorsCheckpoint::Open(FixturePath("tiny-qwen2"));
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  const TensorView* embed = ckpt->Find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(embed->dtype, DType::kF32);
}

TEST(SafetensorsTest, IndexNamingATensorItsShardLacksIsDataLoss) {
  TempDir tmp;
  float x = 1;
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.Add("x", DType::kF32, {1}, {reinterpret_cast<char*>(&x), 4}).ok());
  ASSERT_TRUE(writer.Write(tmp / "s1.safetensors").ok());
  ASSERT_TRUE(core::WriteFileAtomic(tmp / "model.safetensors.index.json",
                                    R"({"weight_map":{"x":"s1.safetensors","y":"s1.safetensors"}})").ok());
  auto ckpt = SafetensorsCheckpoint::Open(tmp.path());
  EXPECT_EQ(ckpt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(ckpt.status().message()), HasSubstr("'y'"));
  ASSERT_TRUE(core::WriteFileAtomic(tmp / "model.safetensors.index.json",
                                    R"({"weight_map":{"x":"../s1.safetensors"}})").ok());
  EXPECT_EQ(SafetensorsCheckpoint::Open(tmp.path()).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tune::formats
