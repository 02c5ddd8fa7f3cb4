// Writer -> reader round trips, the exact byte layout of a small file, and the atomicity of
// Write() under a failing tensor source and a really full disk.
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "core/file.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "gguf/quants.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace tune::gguf {
namespace {

using ::tune::testing::TempDir;

std::string Floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

std::vector<KeyValue> AllValueTypes() {
  return {
      {"general.architecture", std::string("llama")},
      {"t.u8", uint8_t{200}},
      {"t.i8", int8_t{-100}},
      {"t.u16", uint16_t{60000}},
      {"t.i16", int16_t{-30000}},
      {"t.u32", uint32_t{4000000000u}},
      {"t.i32", int32_t{-2000000000}},
      {"t.u64", uint64_t{1} << 60},
      {"t.i64", -(int64_t{1} << 60)},
      {"t.f32", 1.5f},
      {"t.f64", 2.25},
      {"t.bool", true},
      {"t.str", std::string("h\xc3\xa9llo")},
      {"t.empty_str", std::string()},
      {"t.arr_u8", std::vector<uint8_t>{1, 2, 3}},
      {"t.arr_i8", std::vector<int8_t>{-1, 2}},
      {"t.arr_u16", std::vector<uint16_t>{7}},
      {"t.arr_i16", std::vector<int16_t>{-7, 8}},
      {"t.arr_u32", std::vector<uint32_t>{1, 2}},
      {"t.arr_i32", std::vector<int32_t>{1, -2, 3}},
      {"t.arr_u64", std::vector<uint64_t>{uint64_t{1} << 40}},
      {"t.arr_i64", std::vector<int64_t>{-5}},
      {"t.arr_f32", std::vector<float>{0.5f, -1.0f}},
      {"t.arr_f64", std::vector<double>{3.5}},
      {"t.arr_bool", std::vector<bool>{true, false, true}},
      {"t.arr_str", std::vector<std::string>{"a", "", "<s>"}},
      {"t.arr_empty", std::vector<int32_t>{}},
  };
}

TEST(GgufRoundTripTest, MetadataAndTensorsComeBackIdentical) {
  TempDir dir;
  GgufWriter writer;
  for (const KeyValue& kv : AllValueTypes()) ASSERT_TRUE(writer.Set(kv.key, kv.value).ok());
  ASSERT_TRUE(writer.Set("general.alignment", uint32_t{64}).ok());

  std::vector<float> w(512 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(static_cast<float>(i) * 0.37f);
  const std::vector<float> bias = {1.0f, -2.0f, 3.0f};
  struct Expected {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    std::string bytes;
  };
  std::vector<Expected> expected;
  expected.push_back({"bias", GgmlType::kF32, {3}, Floats(bias)});
  for (GgmlType type :
       {GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ5_0,
        GgmlType::kQ5_1, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
    absl::StatusOr<std::string> q = QuantizeTensor(type, w, 512);
    ASSERT_TRUE(q.ok()) << q.status();
    expected.push_back({absl::StrFormat("w.%s", GgmlTypeName(type)), type, {512, 3}, *q});
  }
  for (const Expected& e : expected) {
    ASSERT_TRUE(writer.AddTensor(e.name, e.type, e.ne, e.bytes).ok());
  }
  // A lazily produced tensor, as the exporter adds them.
  const std::string lazy = Floats({4.0f, 5.0f});
  ASSERT_TRUE(
      writer
          .AddTensor("lazy", GgmlType::kF32, {1, 2}, GgufWriter::TensorSource([&] { return lazy; }))
          .ok());
  const auto path = dir / "m.gguf";
  ASSERT_TRUE(writer.Write(path).ok());

  absl::StatusOr<GgufFile> file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->alignment(), 64u);
  EXPECT_EQ(file->data_offset() % 64, 0u);
  EXPECT_EQ(file->metadata(), writer.metadata());
  EXPECT_EQ(file->Get<float>("t.f32").value(), 1.5f);
  EXPECT_EQ(file->Get<std::vector<std::string>>("t.arr_str").value()[2], "<s>");
  absl::Status wrong = file->Get<std::vector<uint32_t>>("t.arr_i32").status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(wrong.message()).find("has type arr[i32], expected arr[u32]"),
            std::string::npos)
      << wrong;
  EXPECT_EQ(file->Get<uint32_t>("t.nope").status().code(), absl::StatusCode::kNotFound);

  ASSERT_EQ(file->tensors().size(), expected.size() + 1);
  for (size_t i = 0; i < expected.size(); ++i) {
    const TensorInfo& t = file->tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, expected[i].name);
    EXPECT_EQ(t.type, expected[i].type);
    EXPECT_EQ(t.ne, expected[i].ne);
    EXPECT_EQ(t.numel(), i == 0 ? 3 : 512 * 3);
    EXPECT_EQ(t.offset % 64, 0u);
    EXPECT_EQ(file->TensorData(t), expected[i].bytes);
  }
  const TensorInfo* lazy_info = file->FindTensor("lazy");
  ASSERT_NE(lazy_info, nullptr);
  EXPECT_EQ(file->TensorData(*lazy_info), lazy);
  EXPECT_EQ(lazy_info->ne, (std::vector<int64_t>{1, 2}));
  // The last tensor is padded too: the file ends on an alignment boundary.
  EXPECT_EQ(std::filesystem::file_size(path) % 64, 0u);
}

// A file small enough to check byte by byte: one u32 KV, one 2-element f32 tensor, default
// alignment 32.
TEST(GgufRoundTripTest, ByteLayoutMatchesTheSpec) {
  TempDir dir;
  GgufWriter writer;
  ASSERT_TRUE(writer.Set("a", uint32_t{7}).ok());
  const std::string data = Floats({1.0f, 2.0f});
  ASSERT_TRUE(writer.AddTensor("t", GgmlType::kF32, {2}, data).ok());
  ASSERT_TRUE(writer.Write(dir / "s.gguf").ok());
  absl::StatusOr<std::string> bytes = core::ReadFile(dir / "s.gguf");
  ASSERT_TRUE(bytes.ok());
  const std::string expected_hex =
      std::string(
          "47475546"              // magic "GGUF"
          "03000000"              // version 3
          "0100000000000000"      // n_tensors
          "0100000000000000"      // n_kv
          "010000000000000061"    // key "a": length 1, then the byte
          "0400000007000000"      // type u32, value 7
          "010000000000000074"    // tensor name "t"
          "01000000"              // n_dims
          "0200000000000000"      // ne[0] = 2
          "00000000"              // f32
          "0000000000000000") +   // offset 0; 74 bytes so far
      std::string(2 * 22, '0') +  // zero padding to the data section at 96
      "0000803f00000040" +        // 1.0f, 2.0f
      std::string(2 * 24, '0');   // the last tensor is padded too, to 128
  EXPECT_EQ(absl::BytesToHexString(*bytes), expected_hex);
}

TEST(GgufRoundTripTest, MetadataOnlyFileHasNoDataPadding) {
  TempDir dir;
  GgufWriter writer;
  ASSERT_TRUE(writer.Set("a", uint8_t{1}).ok());
  ASSERT_TRUE(writer.Write(dir / "kv.gguf").ok());
  // 24-byte header + key (8 + 1) + type (4) + u8 value (1), nothing after.
  EXPECT_EQ(std::filesystem::file_size(dir / "kv.gguf"), 38u);
  absl::StatusOr<GgufFile> file = GgufFile::Open(dir / "kv.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->Get<uint8_t>("a").value(), 1);
  EXPECT_TRUE(file->tensors().empty());
}

TEST(GgufRoundTripTest, WriterRejectsBadInput) {
  GgufWriter writer;
  EXPECT_EQ(writer.Set("", uint32_t{1}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.Set("general.alignment", uint32_t{24}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.Set("general.alignment", uint64_t{32}).code(),
            absl::StatusCode::kInvalidArgument);
  const std::string four(4, '\0');
  EXPECT_TRUE(writer.AddTensor("x", GgmlType::kF32, {1}, four).ok());
  EXPECT_EQ(writer.AddTensor("x", GgmlType::kF32, {1}, four).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.AddTensor("y", GgmlType::kF32, {2}, four).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.AddTensor("z", GgmlType::kQ4_K, {32}, four).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.AddTensor(std::string(64, 'n'), GgmlType::kF32, {1}, four).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.AddTensor("w", GgmlType::kF32, {1, 1, 1, 1, 1}, four).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GgufRoundTripTest, FailedSourceLeavesThePreviousFile) {
  TempDir dir;
  const auto path = dir / "m.gguf";
  tune::testing::WriteTestFile(path, "previous");
  GgufWriter writer;
  const std::string one = Floats({1.0f});
  ASSERT_TRUE(writer.AddTensor("ok", GgmlType::kF32, {1}, one).ok());
  ASSERT_TRUE(writer
                  .AddTensor("bad", GgmlType::kF32, {1}, GgufWriter::TensorSource([] {
                               return absl::StatusOr<std::string>(
                                   absl::InternalError("quantizer exploded"));
                             }))
                  .ok());
  absl::Status st = writer.Write(path);
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_NE(st.message().find("'bad'"), std::string_view::npos) << st;
  EXPECT_EQ(core::ReadFile(path).value(), "previous");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);

  GgufWriter wrong_size;
  ASSERT_TRUE(wrong_size
                  .AddTensor("t", GgmlType::kF32, {2}, GgufWriter::TensorSource([] {
                               return absl::StatusOr<std::string>(std::string(4, 'x'));
                             }))
                  .ok());
  EXPECT_EQ(wrong_size.Write(path).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(core::ReadFile(path).value(), "previous");
}

// A real ENOSPC: the target directory is a 64 KiB tmpfs and the file needs ~1 MiB. Mounting
// needs CAP_SYS_ADMIN (root in the dev container and CI); elsewhere the test says so and skips.
TEST(GgufRoundTripTest, DiskFullMidWriteLeavesNoFile) {
  TempDir dir;
  const auto mnt = dir / "tiny";
  std::filesystem::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a 64 KiB tmpfs to fill (" << std::strerror(errno)
                 << "); needs CAP_SYS_ADMIN";
  }
  struct Unmount {
    std::filesystem::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};

  const std::string big(1 << 20, '\x01');
  GgufWriter writer;
  ASSERT_TRUE(writer.Set("general.architecture", std::string("llama")).ok());
  ASSERT_TRUE(writer.AddTensor("big", GgmlType::kF32, {1 << 18}, big).ok());
  absl::Status st = writer.Write(mnt / "m.gguf");
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_NE(st.message().find("m.gguf"), std::string_view::npos) << st;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(mnt), {}), 0)
      << "a partial or temporary file was left behind";

  // The same filesystem takes a file that fits, so the failure above was the size.
  GgufWriter small;
  const std::string one = Floats({1.0f});
  ASSERT_TRUE(small.AddTensor("s", GgmlType::kF32, {1}, one).ok());
  EXPECT_TRUE(small.Write(mnt / "s.gguf").ok());
  EXPECT_TRUE(GgufFile::Open(mnt / "s.gguf").ok());
}

}  // namespace
}  // namespace tune::gguf
