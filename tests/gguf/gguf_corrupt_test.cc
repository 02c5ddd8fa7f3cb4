// The reader on hostile input: every prefix of a valid file, bad magic and versions, counts
// and string lengths far past the end, misplaced tensor offsets, unknown types. Each must fail
// with the documented code and a message naming the file and the field, never crash.
#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace tune::gguf {
namespace {

using ::tune::testing::TempDir;
using ::tune::testing::WriteTestFile;

// Builds GGUF bytes field by field, so that each test can break exactly one field.
class Bytes {
 public:
  template <typename T>
  Bytes& Put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    s_.append(b, sizeof(T));
    return *this;
  }
  Bytes& Str(std::string_view v) {
    Put<uint64_t>(v.size());
    s_.append(v);
    return *this;
  }
  Bytes& Header(uint64_t n_tensors, uint64_t n_kv) {
    return Put<uint32_t>(kGgufMagic).Put<uint32_t>(3).Put(n_tensors).Put(n_kv);
  }
  Bytes& Info(std::string_view name, int64_t ne0, uint32_t type, uint64_t offset) {
    return Str(name).Put<uint32_t>(1).Put<int64_t>(ne0).Put<uint32_t>(type).Put(offset);
  }
  Bytes& PadTo(size_t alignment) {
    s_.resize((s_.size() + alignment - 1) / alignment * alignment, '\0');
    return *this;
  }
  Bytes& Data(size_t n) {
    s_.append(n, '\x11');
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

class GgufCorruptTest : public ::testing::Test {
 protected:
  absl::Status OpenBytes(const std::string& bytes) {
    const auto path = dir_ / "bad.gguf";
    WriteTestFile(path, bytes);
    absl::Status st = GgufFile::Open(path).status();
    if (!st.ok()) {
      EXPECT_NE(st.message().find("bad.gguf"), std::string_view::npos)
          << "error does not name the file: " << st;
    }
    return st;
  }
  void ExpectError(const std::string& bytes, absl::StatusCode code, std::string_view needle) {
    absl::Status st = OpenBytes(bytes);
    EXPECT_EQ(st.code(), code) << st;
    EXPECT_NE(std::string(st.message()).find(needle), std::string::npos)
        << "'" << needle << "' not in: " << st;
  }
  TempDir dir_;
};

// Two f32 tensors of 8 elements (32 bytes each), one string KV.
std::string ValidFile() {
  return Bytes()
      .Header(2, 1)
      .Str("general.architecture")
      .Put<int32_t>(8)
      .Str("llama")
      .Info("a", 8, 0, 0)
      .Info("b", 8, 0, 32)
      .PadTo(32)
      .Data(64)
      .str();
}

TEST_F(GgufCorruptTest, ValidFileOpens) { EXPECT_TRUE(OpenBytes(ValidFile()).ok()); }

TEST_F(GgufCorruptTest, EveryTruncationIsDataLoss) {
  const std::string valid = ValidFile();
  for (size_t n = 0; n < valid.size(); ++n) {
    absl::Status st = OpenBytes(valid.substr(0, n));
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << "prefix of " << n << " bytes: " << st;
  }
}

TEST_F(GgufCorruptTest, BadMagic) {
  std::string bytes = ValidFile();
  bytes[0] = 'X';
  ExpectError(bytes, absl::StatusCode::kDataLoss, "bad magic");
  ExpectError("not a gguf file at all", absl::StatusCode::kDataLoss, "bad magic");
}

TEST_F(GgufCorruptTest, UnsupportedOrByteSwappedVersion) {
  std::string bytes = ValidFile();
  bytes[4] = 4;
  ExpectError(bytes, absl::StatusCode::kUnimplemented, "version 4");
  bytes[4] = 1;
  ExpectError(bytes, absl::StatusCode::kUnimplemented, "version 1");
  const std::string swapped = Bytes().Put<uint32_t>(kGgufMagic).Put<uint32_t>(0x03000000).str();
  ExpectError(swapped, absl::StatusCode::kDataLoss, "byte-swapped");
}

TEST_F(GgufCorruptTest, HugeCounts) {
  ExpectError(Bytes().Header(0, uint64_t{1} << 60).str(), absl::StatusCode::kDataLoss,
              "metadata count");
  ExpectError(Bytes().Header(~uint64_t{0}, 0).str(), absl::StatusCode::kDataLoss, "tensor count");
  const std::string huge_array = Bytes()
                                     .Header(0, 1)
                                     .Str("k")
                                     .Put<int32_t>(9)
                                     .Put<int32_t>(4)
                                     .Put<uint64_t>(uint64_t{1} << 62)
                                     .str();
  ExpectError(huge_array, absl::StatusCode::kDataLoss, "metadata 'k'");
}

TEST_F(GgufCorruptTest, StringLengthPastEnd) {
  const std::string key =
      Bytes().Header(0, 1).Put<uint64_t>(1000).str() + "abc" + std::string(20, 'x');
  ExpectError(key, absl::StatusCode::kDataLoss, "string length 1000");
  const std::string value =
      Bytes().Header(0, 1).Str("k").Put<int32_t>(8).Put<uint64_t>(~uint64_t{0}).str();
  ExpectError(value, absl::StatusCode::kDataLoss, "metadata 'k'");
}

TEST_F(GgufCorruptTest, MisalignedOrOverlappingOffsets) {
  const std::string misaligned =
      Bytes().Header(2, 0).Info("a", 8, 0, 0).Info("b", 8, 0, 36).PadTo(32).Data(96).str();
  ExpectError(misaligned, absl::StatusCode::kDataLoss, "offset 36, expected 32");
  const std::string overlapping =
      Bytes().Header(2, 0).Info("a", 8, 0, 0).Info("b", 8, 0, 0).PadTo(32).Data(64).str();
  ExpectError(overlapping, absl::StatusCode::kDataLoss, "tensor 'b'");
}

TEST_F(GgufCorruptTest, TensorDataPastEnd) {
  const std::string short_data = Bytes().Header(1, 0).Info("a", 8, 0, 0).PadTo(32).Data(31).str();
  ExpectError(short_data, absl::StatusCode::kDataLoss, "tensor 'a'");
  const std::string huge_dims = Bytes()
                                    .Header(1, 0)
                                    .Str("a")
                                    .Put<uint32_t>(2)
                                    .Put<int64_t>(1 << 30)
                                    .Put<int64_t>(int64_t{1} << 40)
                                    .Put<uint32_t>(0)
                                    .Put<uint64_t>(0)
                                    .str();
  ExpectError(huge_dims, absl::StatusCode::kDataLoss, "tensor 'a'");
  const std::string negative = Bytes().Header(1, 0).Info("a", -8, 0, 0).str();
  ExpectError(negative, absl::StatusCode::kDataLoss, "negative dim");
}

TEST_F(GgufCorruptTest, UnknownTypes) {
  // 23 = IQ4_XS: a real ggml type tune does not handle.
  ExpectError(Bytes().Header(1, 0).Info("a", 256, 23, 0).PadTo(32).Data(256).str(),
              absl::StatusCode::kUnimplemented, "ggml tensor type 23");
  ExpectError(Bytes().Header(0, 1).Str("k").Put<int32_t>(13).Put<uint32_t>(0).str(),
              absl::StatusCode::kDataLoss, "unknown value type 13");
  ExpectError(Bytes().Header(0, 1).Str("k").Put<int32_t>(9).Put<int32_t>(9).Put<uint64_t>(0).str(),
              absl::StatusCode::kUnimplemented, "arrays of arrays");
}

TEST_F(GgufCorruptTest, StructuralRules) {
  ExpectError(Bytes().Header(1, 0).Info("a", 33, 8, 0).PadTo(32).Data(64).str(),
              absl::StatusCode::kDataLoss, "not a multiple of the q8_0 block size");
  ExpectError(Bytes()
                  .Header(0, 2)
                  .Str("k")
                  .Put<int32_t>(4)
                  .Put<uint32_t>(1)
                  .Str("k")
                  .Put<int32_t>(4)
                  .Put<uint32_t>(2)
                  .str(),
              absl::StatusCode::kDataLoss, "duplicate key");
  ExpectError(Bytes().Header(0, 1).Str("").Put<int32_t>(4).Put<uint32_t>(1).str(),
              absl::StatusCode::kDataLoss, "empty key");
  const std::string align_key = Bytes().Header(0, 1).Str("general.alignment").str();
  ExpectError(align_key + Bytes().Put<int32_t>(4).Put<uint32_t>(48).str(),
              absl::StatusCode::kDataLoss, "power of two");
  ExpectError(align_key + Bytes().Put<int32_t>(10).Put<uint64_t>(32).str(),
              absl::StatusCode::kDataLoss, "general.alignment");
  ExpectError(Bytes().Header(2, 0).Info("a", 8, 0, 0).Info("a", 8, 0, 32).PadTo(32).Data(64).str(),
              absl::StatusCode::kDataLoss, "duplicate tensor name");
  ExpectError(Bytes().Header(1, 0).Info(std::string(64, 'n'), 8, 0, 0).PadTo(32).Data(32).str(),
              absl::StatusCode::kDataLoss, "name length 64");
  ExpectError(Bytes()
                  .Header(1, 0)
                  .Str("a")
                  .Put<uint32_t>(5)
                  .Put<int64_t>(1)
                  .Put<int64_t>(1)
                  .Put<int64_t>(1)
                  .Put<int64_t>(1)
                  .Put<int64_t>(1)
                  .Put<uint32_t>(0)
                  .Put<uint64_t>(0)
                  .str(),
              absl::StatusCode::kDataLoss, "n_dims 5");
}

TEST_F(GgufCorruptTest, NotFoundAndDirectory) {
  EXPECT_EQ(GgufFile::Open(dir_ / "missing.gguf").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(GgufFile::Open(dir_.path()).ok());
}

}  // namespace
}  // namespace tune::gguf
