#include "fuzz/fuzz_target.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

namespace tune::fuzz {
namespace {

std::map<std::string, Entry>& MutableTargets() {
  static auto* targets = new std::map<std::string, Entry>();
  return *targets;
}

// The per-process input directory, removed when the process exits normally.
class InputDir {
 public:
  InputDir()
      : path_(std::filesystem::temp_directory_path() /
              ("tune-fuzz-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~InputDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

bool RegisterTarget(const std::string& name, Entry entry) {
  if (!MutableTargets().emplace(name, entry).second) Fail("unique target name", __FILE__, __LINE__, name);
  return true;
}

const std::map<std::string, Entry>& Targets() { return MutableTargets(); }

std::filesystem::path WriteInput(const std::string& file_name, std::string_view input) {
  static InputDir dir;
  std::filesystem::path path = dir.path() / file_name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(input.data(), static_cast<std::streamsize>(input.size()));
  out.close();
  if (!out) Fail("input written", __FILE__, __LINE__, path.string());
  return path;
}

void CheckError(const absl::Status& status, const std::string& must_name) {
  const bool input_error = !status.ok() && status.code() != absl::StatusCode::kUnknown &&
                           status.code() != absl::StatusCode::kInternal;
  if (!input_error || status.message().find(must_name) == absl::string_view::npos) {
    Fail("an input error naming the file", __FILE__, __LINE__, status.ToString());
  }
}

std::filesystem::path FixturePath(const std::string& name) {
  return std::filesystem::path(TUNE_FIXTURES_DIR) / name;
}

void Fail(const char* condition, const char* file, int line, std::string_view detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s %.*s\n", file, line, condition,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace tune::fuzz
