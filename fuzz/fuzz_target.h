// One libFuzzer target per file: `TUNE_FUZZ_TARGET(name) { ... }` with the input in scope as
// `std::string_view input`. In the fuzz build (TUNE_LIBFUZZER, scripts/fuzz.sh) the body becomes
// LLVMFuzzerTestOneInput; in the normal build every target registers itself under its name and
// tune_fuzz_regression_tests replays fuzz/regressions/<name>/ through it. A target fails (aborts)
// on a crash, a sanitizer report, or a broken TUNE_FUZZ_CHECK: readers must answer hostile bytes
// with an error Status that names the file, never with a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tune::fuzz {

using Entry = void (*)(std::string_view input);

// Regression build: records `entry` under `name`. Returns true (for a static initializer).
bool RegisterTarget(const std::string& name, Entry entry);
const std::map<std::string, Entry>& Targets();

// Writes `input` to <this process's temp dir>/<file_name> (replacing it) and returns the path.
// The directory holds nothing else the target did not write; it is removed at exit.
std::filesystem::path WriteInput(const std::string& file_name, std::string_view input);

// A finding unless `status` is an error of a code meant for bad input (not OK, Unknown or
// Internal) whose message contains `must_name` (the file the reader was given).
void CheckError(const absl::Status& status, const std::string& must_name);

// ../shared/fixtures/hf-reference/<name> beside the checkout.
std::filesystem::path FixturePath(const std::string& name);

[[noreturn]] void Fail(const char* condition, const char* file, int line, std::string_view detail);

}  // namespace tune::fuzz

#define TUNE_FUZZ_CHECK(cond)                                         \
  do {                                                                \
    if (!(cond)) ::tune::fuzz::Fail(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#ifdef TUNE_LIBFUZZER
#define TUNE_FUZZ_TARGET(name)                                                 \
  static void FuzzOne(std::string_view input);                                 \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {    \
    FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));      \
    return 0;                                                                  \
  }                                                                            \
  static void FuzzOne(std::string_view input)
#else
#define TUNE_FUZZ_TARGET(name)                                                 \
  static void FuzzOne(std::string_view input);                                 \
  [[maybe_unused]] static const bool kRegistered =                             \
      ::tune::fuzz::RegisterTarget(#name, &FuzzOne);                           \
  static void FuzzOne(std::string_view input)
#endif
