#include "data/filters.h"

#include <gtest/gtest.h>

#include <string>

#include "data/glob.h"
#include "data/language.h"

namespace tune::data {
namespace {

TEST(GlobTest, StarStaysInComponentDoubleStarSpans) {
  EXPECT_TRUE(GlobMatch("*.py", "a.py"));
  EXPECT_FALSE(GlobMatch("*.py", "dir/a.py"));
  EXPECT_TRUE(GlobMatch("**/*.py", "dir/sub/a.py"));
  EXPECT_TRUE(GlobMatch("**/*.py", "a.py"));
  EXPECT_TRUE(GlobMatch("docs/**", "docs/x/y.md"));
  EXPECT_TRUE(GlobMatch("file?.[ch]", "file1.c"));
  EXPECT_FALSE(GlobMatch("file?.[!ch]", "file1.c"));
}

TEST(GlobTest, GitPatternsMatchBasenamesAndAnchoredDirs) {
  EXPECT_TRUE(GitPatternMatch("*.pb.go", "api/v1/x.pb.go"));
  EXPECT_TRUE(GitPatternMatch("gen/", "src/gen/a.c"));
  EXPECT_FALSE(GitPatternMatch("gen/", "src/gen"));
  EXPECT_TRUE(GitPatternMatch("/build/out", "build/out/a.c"));
  EXPECT_FALSE(GitPatternMatch("/build/out", "x/build/out/a.c"));
}

TEST(LanguageTest, ExtensionFileNameAndShebang) {
  EXPECT_EQ(DetectLanguage("src/a.cc", "").name, "cpp");
  EXPECT_EQ(DetectLanguage("x/Makefile", "").name, "makefile");
  EXPECT_EQ(DetectLanguage("a.h", "#pragma once\nint f(void);\n").name, "c");
  EXPECT_EQ(DetectLanguage("a.h", "#pragma once\nnamespace tune {\n").name, "cpp");
  EXPECT_EQ(DetectLanguage("tool", "#!/usr/bin/env python3\nprint(1)\n").name, "python");
  EXPECT_EQ(DetectLanguage("run", "#!/bin/bash\necho\n").name, "shell");
  EXPECT_EQ(DetectLanguage("README.md", "").kind, LanguageKind::kProse);
  EXPECT_EQ(DetectLanguage("x.json", "").kind, LanguageKind::kData);
  EXPECT_FALSE(DetectLanguage("blob.bin",
                              "\x7f"
                              "ELF")
                   .known());
}

std::string Lines(int n, const std::string& line) {
  std::string s;
  for (int i = 0; i < n; ++i) s += line + "\n";
  return s;
}

class FilterTest : public ::testing::Test {
 protected:
  DropReason Content(const std::string& path, const std::string& text) {
    return CheckContent(options_, DetectLanguage(path, text), text);
  }
  FilterOptions options_;
};

TEST_F(FilterTest, KeepsOrdinaryCode) {
  EXPECT_EQ(Content("a.py", Lines(50, "def f(x):  return x + 1  # add one")), DropReason::kKept);
}

TEST_F(FilterTest, PathRules) {
  EXPECT_EQ(CheckPath(options_, "node_modules/x/index.js", false, false), DropReason::kVendored);
  EXPECT_EQ(CheckPath(options_, "third_party/zlib/zlib.c", false, false), DropReason::kVendored);
  EXPECT_EQ(CheckPath(options_, "static/app.min.js", false, false), DropReason::kVendored);
  EXPECT_EQ(CheckPath(options_, "src/mine.c", false, true), DropReason::kVendored);
  EXPECT_EQ(CheckPath(options_, "web/package-lock.json", false, false), DropReason::kLockFile);
  EXPECT_EQ(CheckPath(options_, "Cargo.lock", false, false), DropReason::kLockFile);
  EXPECT_EQ(CheckPath(options_, "api/x.pb.go", false, false), DropReason::kGenerated);
  EXPECT_EQ(CheckPath(options_, "src/y.c", true, false), DropReason::kGenerated);
  EXPECT_EQ(CheckPath(options_, "src/y.c", false, false), DropReason::kKept);
  options_.exclude = {"docs/**"};
  EXPECT_EQ(CheckPath(options_, "docs/a/b.md", false, false), DropReason::kExcluded);
  options_.include = {"src/**"};
  EXPECT_EQ(CheckPath(options_, "lib/a.c", false, false), DropReason::kExcluded);
  EXPECT_EQ(CheckPath(options_, "src/a.c", false, false), DropReason::kKept);
}

TEST_F(FilterTest, ContentRules) {
  EXPECT_EQ(Content("a.bin", "abc"), DropReason::kUnsupportedLanguage);
  EXPECT_EQ(Content("a.c", std::string("int x;\0\1", 8)), DropReason::kBinary);
  EXPECT_EQ(Content("a.c", "int x = 1; // caf\xe9\n"), DropReason::kInvalidUtf8);
  EXPECT_EQ(Content("a.c", "// overlong \xc0\xaf\n"), DropReason::kInvalidUtf8);
  options_.max_lines = 100;
  EXPECT_EQ(Content("a.c", Lines(101, "int x;")), DropReason::kTooManyLines);
  options_.max_lines = 100000;
  EXPECT_EQ(Content("a.js", "var a=1;" + std::string(1200, 'x') + "\n"), DropReason::kLongLines);
  EXPECT_EQ(Content("a.js", Lines(20, std::string(150, 'y'))), DropReason::kLongLines);
  // Prose may have long lines.
  std::string paragraph;
  for (int i = 0; i < 300; ++i) paragraph += "word ";
  EXPECT_EQ(Content("a.md", Lines(5, paragraph)), DropReason::kKept);
  EXPECT_EQ(Content("a.c", Lines(20, "int v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};")),
            DropReason::kLowAlpha);
  EXPECT_EQ(Content("a.py", "DATA = '" + std::string(2000, 'A') + "'\n"), DropReason::kLongLines);
  std::string b64;
  for (int i = 0; i < 30; ++i)
    b64 += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpamts\n";
  EXPECT_EQ(Content("a.py", "blob = '''\n" + b64 + "'''\n" + Lines(60, "def f(): return call(x)")),
            DropReason::kEncodedData);
  std::string hex;
  for (int i = 0; i < 100; ++i) hex += "0x1f, 0xa2, 0x33, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f,\n";
  EXPECT_EQ(Content("a.c", "static const unsigned char kData[] = {\n" + hex + "};\n" +
                               Lines(300, "int function_name(int argument) { return argument; }")),
            DropReason::kEncodedData);
  EXPECT_EQ(Content("a.go", "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n"),
            DropReason::kGenerated);
  EXPECT_EQ(Content("a.yaml", Lines(600, "key: value")), DropReason::kDataFile);
  EXPECT_EQ(Content("a.xml", "<?xml version=\"1.0\"?>\n<root>text</root>\n"),
            DropReason::kDataFile);
  EXPECT_EQ(Content("a.yaml", Lines(10, "key: value")), DropReason::kKept);
}

TEST(Utf8Test, AcceptsValidRejectsSurrogatesAndTruncation) {
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // U+D800
  EXPECT_FALSE(IsValidUtf8("abc\xe2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(DropReasonTest, NamesAreStable) {
  EXPECT_EQ(DropReasonName(DropReason::kLongLines), "long_lines");
  EXPECT_EQ(DropReasonName(DropReason::kNearDuplicate), "near_duplicate");
}

}  // namespace
}  // namespace tune::data
