#include "core/file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "tests/support/temp_dir.h"

namespace tune::core {
namespace {

using ::testing::HasSubstr;
using tune::testing::TempDir;

TEST(FileTest, WriteFileAtomicReplacesContentsAndLeavesNoTempFile) {
  TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "a.txt", "first").ok());
  ASSERT_TRUE(WriteFileAtomic(tmp / "a.txt", "second").ok());
  EXPECT_EQ(ReadFile(tmp / "a.txt").value(), "second");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(FileTest, AbandonedWriterLeavesTheOldFile) {
  TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "a.txt", "old").ok());
  {
    auto writer = AtomicFileWriter::Open(tmp / "a.txt");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->Append("half-written").ok());
  }  // destroyed without Commit, as after an error
  EXPECT_EQ(ReadFile(tmp / "a.txt").value(), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.path()), {}), 1);
}

TEST(FileTest, WriteAtOverwritesWrittenBytesOnly) {
  TempDir tmp;
  auto writer = AtomicFileWriter::Open(tmp / "h.bin");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->Append("....body").ok());
  // Past the 8 MiB writeback step, so that WriteAt also lands in pages already written out.
  ASSERT_TRUE(writer->Append(std::string(9 << 20, 'x')).ok());
  ASSERT_TRUE(writer->WriteAt(0, "HEAD").ok());
  EXPECT_EQ(writer->WriteAt(writer->bytes_written() - 1, "ab").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(writer->Commit().ok());
  const std::string bytes = ReadFile(tmp / "h.bin").value();
  EXPECT_EQ(bytes.substr(0, 8), "HEADbody");
  EXPECT_EQ(bytes.size(), 8u + (9u << 20));
}

TEST(FileTest, DiskFullIsResourceExhaustedAndKeepsTheOldFile) {
  TempDir tmp;
  std::filesystem::path mnt = tmp / "small";
  std::filesystem::create_directories(mnt);
  // A 64 KiB tmpfs makes ENOSPC real; mounting needs root (CI and the dev machine run as root).
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?): " << std::strerror(errno);
  }
  ASSERT_TRUE(WriteFileAtomic(mnt / "data.bin", "old").ok());
  absl::Status s = WriteFileAtomic(mnt / "data.bin", std::string(1 << 20, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("data.bin"));
  EXPECT_EQ(ReadFile(mnt / "data.bin").value(), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(mnt), {}), 1);
  ::umount(mnt.c_str());
}

TEST(FileTest, MappedFileViewsTheBytesAndNamesMissingFiles) {
  TempDir tmp;
  ASSERT_TRUE(WriteFileAtomic(tmp / "m.bin", std::string("ab\0cd", 5)).ok());
  auto mapped = MappedFile::Open(tmp / "m.bin");
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->view(), std::string_view("ab\0cd", 5));
  auto empty_ok = WriteFileAtomic(tmp / "empty", "");
  ASSERT_TRUE(empty_ok.ok());
  EXPECT_EQ(MappedFile::Open(tmp / "empty")->size(), 0u);
  auto missing = MappedFile::Open(tmp / "nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("nope"));
  EXPECT_EQ(MappedFile::Open(tmp.path()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tune::core
