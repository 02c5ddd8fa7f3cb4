#include "data/shard.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/file.h"
#include "tests/support/temp_dir.h"

namespace tune::data {
namespace {

using ::tune::testing::TempDir;

TEST(ShardTest, RoundTripsTokensMaskAndBoundaries) {
  TempDir dir;
  auto writer = ShardWriter::Create(dir / "s.tshard", 100);
  ASSERT_TRUE(writer.ok()) << writer.status();
  std::vector<int32_t> d1 = {1, 2, 3}, d2 = {4, 5, 99, 0};
  std::vector<uint8_t> m1 = {1, 1, 1}, m2 = {0, 1, 1, 1};
  ASSERT_TRUE(writer->AddDocument(d1, m1).ok());
  ASSERT_TRUE(writer->AddDocument(d2, m2).ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "s.tshard"));  // published only by Finish()
  auto checksum = writer->Finish();
  ASSERT_TRUE(checksum.ok()) << checksum.status();
  auto reader = ShardReader::Open(dir / "s.tshard");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(reader->num_tokens(), 7u);
  EXPECT_EQ(reader->num_documents(), 2u);
  EXPECT_EQ(reader->vocab_size(), 100u);
  EXPECT_EQ(reader->checksum(), *checksum);
  auto t2 = reader->document_tokens(1);
  EXPECT_EQ(std::vector<int32_t>(t2.begin(), t2.end()), d2);
  auto k2 = reader->document_mask(1);
  EXPECT_EQ(std::vector<uint8_t>(k2.begin(), k2.end()), m2);
}

TEST(ShardTest, WriterRejectsBadDocuments) {
  TempDir dir;
  auto writer = ShardWriter::Create(dir / "s.tshard", 10);
  ASSERT_TRUE(writer.ok()) << writer.status();
  std::vector<int32_t> t = {1, 10};
  std::vector<uint8_t> m = {1, 1}, short_mask = {1};
  EXPECT_EQ(writer->AddDocument(t, m).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer->AddDocument(std::vector<int32_t>{1, 2}, short_mask).code(),
            absl::StatusCode::kInvalidArgument);
  // Rejected documents left nothing behind.
  ASSERT_TRUE(writer->Finish().ok());
  auto reader = ShardReader::Open(dir / "s.tshard");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(reader->num_tokens(), 0u);
  EXPECT_EQ(reader->num_documents(), 0u);
}

// Large enough to cross the writer's background-writeback step several times.
TEST(ShardTest, LargeShardRoundTrips) {
  TempDir dir;
  auto writer = ShardWriter::Create(dir / "big.tshard", 1 << 20);
  ASSERT_TRUE(writer.ok()) << writer.status();
  std::vector<int32_t> doc(1 << 20);
  std::vector<uint8_t> mask(doc.size());
  for (int d = 0; d < 10; ++d) {
    for (size_t i = 0; i < doc.size(); ++i) {
      doc[i] = static_cast<int32_t>((i * 7 + d) % (1 << 20));
      mask[i] = static_cast<uint8_t>((i + d) % 2);
    }
    ASSERT_TRUE(writer->AddDocument(doc, mask).ok());
  }
  auto checksum = writer->Finish();
  ASSERT_TRUE(checksum.ok()) << checksum.status();
  auto reader = ShardReader::Open(dir / "big.tshard");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(reader->checksum(), *checksum);
  ASSERT_EQ(reader->num_documents(), 10u);
  auto last = reader->document_tokens(9);
  EXPECT_EQ(std::vector<int32_t>(last.begin(), last.end()), doc);
  auto last_mask = reader->document_mask(9);
  EXPECT_EQ(std::vector<uint8_t>(last_mask.begin(), last_mask.end()), mask);
}

TEST(ShardTest, UnfinishedWriterLeavesNoFile) {
  TempDir dir;
  {
    auto writer = ShardWriter::Create(dir / "s.tshard", 10);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->AddDocument(std::vector<int32_t>{1}, std::vector<uint8_t>{1}).ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(ShardTest, ReaderRejectsCorruptionTruncationAndOtherVersions) {
  TempDir dir;
  auto writer = ShardWriter::Create(dir / "s.tshard", 50);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(
      writer->AddDocument(std::vector<int32_t>{1, 2, 3}, std::vector<uint8_t>{1, 1, 1}).ok());
  ASSERT_TRUE(writer->Finish().ok());
  std::string bytes = *core::ReadFile(dir / "s.tshard");

  std::string flipped = bytes;
  flipped[64] ^= 1;
  ASSERT_TRUE(core::WriteFileAtomic(dir / "flip.tshard", flipped).ok());
  auto r1 = ShardReader::Open(dir / "flip.tshard");
  EXPECT_EQ(r1.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r1.status().message().find("checksum"), std::string::npos);

  ASSERT_TRUE(core::WriteFileAtomic(dir / "short.tshard", bytes.substr(0, bytes.size() - 8)).ok());
  EXPECT_EQ(ShardReader::Open(dir / "short.tshard").status().code(), absl::StatusCode::kDataLoss);

  std::string v2 = bytes;
  v2[8] = 2;
  ASSERT_TRUE(core::WriteFileAtomic(dir / "v2.tshard", v2).ok());
  auto r3 = ShardReader::Open(dir / "v2.tshard");
  EXPECT_EQ(r3.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r3.status().message().find("version 2"), std::string::npos);

  ASSERT_TRUE(core::WriteFileAtomic(dir / "junk.tshard", std::string(100, 'j')).ok());
  EXPECT_EQ(ShardReader::Open(dir / "junk.tshard").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tune::data
