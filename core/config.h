// TOML configuration: a file from configs/ plus `section.key=value` overrides from flags.
//
// Each library owns a plain options struct and fills it through a SectionReader, which checks
// types and ranges and rejects unknown keys. Every error names the file, the key and what is
// allowed, e.g.
//   configs/qwen2.5-coder.toml: lora.rank must be an integer in [1, 4096], got "16x"
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace tune::core {

// A parsed config: the TOML table and the name it is reported under.
class Config {
 public:
  // Parses `path` (NotFound / InvalidArgument with line and column on a syntax error), then
  // applies each override "section.key=value"; the value is TOML (`16`, `"text"`, `[1, 2]`,
  // `true`) and falls back to a plain string when it does not parse as one.
  static absl::StatusOr<Config> Load(const std::filesystem::path& path,
                                     const std::vector<std::string>& overrides = {});
  // A config from TOML text (tests, embedded defaults); `origin` names it in errors.
  static absl::StatusOr<Config> Parse(std::string_view toml_text, std::string origin,
                                      const std::vector<std::string>& overrides = {});

  Config(Config&&) noexcept;
  Config& operator=(Config&&) noexcept;
  ~Config();

  const std::string& origin() const { return origin_; }
  const toml::table& table() const { return *table_; }

  // InvalidArgument if the file has a top-level key or section outside `allowed`.
  absl::Status CheckSections(const std::set<std::string>& allowed) const;

 private:
  Config(std::string origin, std::unique_ptr<toml::table> table);
  std::string origin_;
  std::unique_ptr<toml::table> table_;
};

// Reads the keys of one [section]. Missing keys keep the caller's default. Call Finish() last:
// it reports keys that nobody read, with the list of allowed keys.
class SectionReader {
 public:
  SectionReader(const Config& config, std::string section);

  absl::Status Read(std::string_view key, int64_t& value, int64_t min, int64_t max);
  absl::Status Read(std::string_view key, double& value, double min, double max);
  absl::Status Read(std::string_view key, bool& value);
  absl::Status Read(std::string_view key, std::string& value);
  // A string that must be one of `allowed`.
  absl::Status ReadChoice(std::string_view key, std::string& value,
                          const std::vector<std::string>& allowed);
  // An array of strings, each one of `allowed` (empty `allowed`: any string).
  absl::Status Read(std::string_view key, std::vector<std::string>& value,
                    const std::vector<std::string>& allowed = {});
  absl::Status Finish() const;

 private:
  const void* Find(std::string_view key);
  absl::Status Error(std::string_view key, std::string_view expected, std::string_view got) const;
  const Config& config_;
  std::string section_;
  std::vector<std::string> known_;
};

}  // namespace tune::core
