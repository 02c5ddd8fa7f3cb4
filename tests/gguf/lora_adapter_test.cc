#include "gguf/lora_adapter.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace tune::gguf {
namespace {

using ::tune::testing::TempDir;

class LoraAdapterTest : public ::testing::Test {
 protected:
  // 4 floats per tensor is enough for every shape used below.
  const std::string data_ = std::string(64 * sizeof(float), '\0');
  absl::StatusOr<LoraAdapter> WriteAndRead(GgufWriter& w) {
    const auto path = dir_ / "a.gguf";
    if (absl::Status st = w.Write(path); !st.ok()) return st;
    absl::StatusOr<GgufFile> file = GgufFile::Open(path);
    if (!file.ok()) return file.status();
    file_ = std::make_unique<GgufFile>(*std::move(file));
    return ReadLoraAdapter(*file_);
  }
  std::string_view Bytes(int64_t n) { return std::string_view(data_).substr(0, n * 4); }
  TempDir dir_;
  std::unique_ptr<GgufFile> file_;
};

TEST_F(LoraAdapterTest, WritesWhatLlamaCppExpects) {
  GgufWriter w;
  ASSERT_TRUE(SetLoraAdapterMetadata(w, "qwen2", 16.0f).ok());
  ASSERT_TRUE(
      AddLoraPair(w, "blk.0.attn_q.weight", GgmlType::kF32, 8, 6, 2, Bytes(16), Bytes(12)).ok());
  absl::StatusOr<LoraAdapter> a = WriteAndRead(w);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->architecture, "qwen2");
  EXPECT_EQ(a->alpha, 16.0f);
  ASSERT_EQ(a->pairs.size(), 1u);
  EXPECT_EQ(a->pairs[0].base_name, "blk.0.attn_q.weight");
  EXPECT_EQ(a->pairs[0].a->ne, (std::vector<int64_t>{8, 2}));  // {in, rank}
  EXPECT_EQ(a->pairs[0].b->ne, (std::vector<int64_t>{2, 6}));  // {rank, out}
  EXPECT_EQ(file_->Get<std::string>("general.type").value(), "adapter");
  EXPECT_EQ(file_->Get<std::string>("adapter.type").value(), "lora");
}

TEST_F(LoraAdapterTest, RejectsWhatLlamaCppRejects) {
  {
    GgufWriter w;  // a model, not an adapter
    ASSERT_TRUE(w.Set("general.type", std::string("model")).ok());
    EXPECT_EQ(WriteAndRead(w).status().code(), absl::StatusCode::kInvalidArgument);
  }
  {
    GgufWriter w;  // half a pair
    ASSERT_TRUE(SetLoraAdapterMetadata(w, "llama", 8.0f).ok());
    ASSERT_TRUE(w.AddTensor("blk.0.attn_q.weight.lora_a", GgmlType::kF32, {8, 2}, Bytes(16)).ok());
    absl::Status st = WriteAndRead(w).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(st.message()).find("no lora_b"), std::string::npos) << st;
  }
  {
    GgufWriter w;  // rank mismatch: a {8, 2}, b {3, 6}
    ASSERT_TRUE(SetLoraAdapterMetadata(w, "llama", 8.0f).ok());
    ASSERT_TRUE(w.AddTensor("w.lora_a", GgmlType::kF32, {8, 2}, Bytes(16)).ok());
    ASSERT_TRUE(w.AddTensor("w.lora_b", GgmlType::kF32, {3, 6}, Bytes(18)).ok());
    absl::Status st = WriteAndRead(w).status();
    EXPECT_NE(std::string(st.message()).find("rank"), std::string::npos) << st;
  }
  {
    GgufWriter w;  // a full weight inside an adapter
    ASSERT_TRUE(SetLoraAdapterMetadata(w, "llama", 8.0f).ok());
    ASSERT_TRUE(w.AddTensor("blk.0.attn_q.weight", GgmlType::kF32, {4, 4}, Bytes(16)).ok());
    absl::Status st = WriteAndRead(w).status();
    EXPECT_NE(std::string(st.message()).find("neither"), std::string::npos) << st;
  }
  GgufWriter w;
  EXPECT_EQ(AddLoraPair(w, "x", GgmlType::kF32, 8, 6, 0, Bytes(0), Bytes(0)).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tune::gguf
