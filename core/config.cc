#include "core/config.h"

#include <sstream>
#include <toml++/toml.h>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/file.h"
#include "core/status.h"

namespace tune::core {
namespace {

std::string Describe(const toml::node& node) {
  std::ostringstream out;
  if (auto* s = node.as_string()) {
    out << '"' << s->get() << '"';
  } else {
    node.visit([&](auto&& n) { out << n; });
  }
  return out.str();
}

absl::Status ApplyOverride(toml::table& table, std::string_view origin, std::string_view item) {
  size_t eq = item.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "override '%s' for %s is not of the form section.key=value", item, origin));
  }
  std::string path(item.substr(0, eq));
  std::string value(item.substr(eq + 1));
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "override key '%s' must be section.key, e.g. lora.rank=16", path));
  }
  toml::table* section = table[parts[0]].as_table();
  if (section == nullptr) {
    table.insert_or_assign(parts[0], toml::table{});
    section = table[parts[0]].as_table();
  }
  // Parse the value as TOML so `16` stays an integer and `[..]` an array; a bare word is a string.
  try {
    toml::table parsed = toml::parse("v = " + value);
    section->insert_or_assign(parts[1], *parsed.get("v"));
  } catch (const toml::parse_error&) {
    section->insert_or_assign(parts[1], value);
  }
  return absl::OkStatus();
}

}  // namespace

Config::Config(std::string origin, std::unique_ptr<toml::table> table)
    : origin_(std::move(origin)), table_(std::move(table)) {}
Config::Config(Config&&) noexcept = default;
Config& Config::operator=(Config&&) noexcept = default;
Config::~Config() = default;

absl::StatusOr<Config> Config::Parse(std::string_view toml_text, std::string origin,
                                     const std::vector<std::string>& overrides) {
  // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
  std::unique_ptr<toml::table> table;
  try {
    table = std::make_unique<toml::table>(toml::parse(toml_text, origin));
  } catch (const toml::parse_error& err) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s:%d:%d: %s", origin, err.source().begin.line, err.source().begin.column,
        err.description()));
  }
  for (const std::string& item : overrides) {
    TUNE_RETURN_IF_ERROR(ApplyOverride(*table, origin, item));
  }
  return Config(std::move(origin), std::move(table));
}

absl::StatusOr<Config> Config::Load(const std::filesystem::path& path,
                                    const std::vector<std::string>& overrides) {
  TUNE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path.string(), overrides);
}

absl::Status Config::CheckSections(const std::set<std::string>& allowed) const {
  for (const auto& [key, node] : *table_) {
    std::string name(key.str());
    if (allowed.count(name) == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: unknown section '%s'; allowed: %s", origin_, name,
                          absl::StrJoin(allowed, ", ")));
    }
    if (!node.is_table()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: '%s' must be a [section]", origin_, name));
    }
  }
  return absl::OkStatus();
}

SectionReader::SectionReader(const Config& config, std::string section)
    : config_(config), section_(std::move(section)) {}

const void* SectionReader::Find(std::string_view key) {
  known_.emplace_back(key);
  const toml::table* section = config_.table()[section_].as_table();
  if (section == nullptr) return nullptr;
  return section->get(key);
}

absl::Status SectionReader::Error(std::string_view key, std::string_view expected,
                                  std::string_view got) const {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s.%s must be %s, got %s",
                                                    config_.origin(), section_, key, expected,
                                                    got));
}

absl::Status SectionReader::Read(std::string_view key, int64_t& value, int64_t min, int64_t max) {
  auto* node = static_cast<const toml::node*>(Find(key));
  if (node == nullptr) return absl::OkStatus();
  std::string expected = absl::StrFormat("an integer in [%d, %d]", min, max);
  std::optional<int64_t> v = node->value_exact<int64_t>();
  if (!v || *v < min || *v > max) return Error(key, expected, Describe(*node));
  value = *v;
  return absl::OkStatus();
}

absl::Status SectionReader::Read(std::string_view key, double& value, double min, double max) {
  auto* node = static_cast<const toml::node*>(Find(key));
  if (node == nullptr) return absl::OkStatus();
  std::string expected = absl::StrFormat("a number in [%g, %g]", min, max);
  std::optional<double> v = node->value<double>();  // integers are accepted as numbers
  if (!v || *v < min || *v > max) return Error(key, expected, Describe(*node));
  value = *v;
  return absl::OkStatus();
}

absl::Status SectionReader::Read(std::string_view key, bool& value) {
  auto* node = static_cast<const toml::node*>(Find(key));
  if (node == nullptr) return absl::OkStatus();
  std::optional<bool> v = node->value_exact<bool>();
  if (!v) return Error(key, "true or false", Describe(*node));
  value = *v;
  return absl::OkStatus();
}

absl::Status SectionReader::Read(std::string_view key, std::string& value) {
  auto* node = static_cast<const toml::node*>(Find(key));
  if (node == nullptr) return absl::OkStatus();
  std::optional<std::string> v = node->value_exact<std::string>();
  if (!v) return Error(key, "a string", Describe(*node));
  value = *v;
  return absl::OkStatus();
}

absl::Status SectionReader::ReadChoice(std::string_view key, std::string& value,
                                       const std::vector<std::string>& allowed) {
  std::string v = value;
  TUNE_RETURN_IF_ERROR(Read(key, v));
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    return Error(key, absl::StrFormat("one of %s", absl::StrJoin(allowed, ", ")),
                 absl::StrFormat("\"%s\"", v));
  }
  value = v;
  return absl::OkStatus();
}

absl::Status SectionReader::Read(std::string_view key, std::vector<std::string>& value,
                                 const std::vector<std::string>& allowed) {
  auto* node = static_cast<const toml::node*>(Find(key));
  if (node == nullptr) return absl::OkStatus();
  std::string expected = allowed.empty()
                             ? std::string("an array of strings")
                             : absl::StrFormat("an array of strings from %s",
                                               absl::StrJoin(allowed, ", "));
  const toml::array* array = node->as_array();
  if (array == nullptr) return Error(key, expected, Describe(*node));
  std::vector<std::string> out;
  for (const toml::node& item : *array) {
    std::optional<std::string> s = item.value_exact<std::string>();
    if (!s || (!allowed.empty() &&
               std::find(allowed.begin(), allowed.end(), *s) == allowed.end())) {
      return Error(key, expected, Describe(item));
    }
    out.push_back(*s);
  }
  value = std::move(out);
  return absl::OkStatus();
}

absl::Status SectionReader::Finish() const {
  const toml::table* section = config_.table()[section_].as_table();
  if (section == nullptr) return absl::OkStatus();
  for (const auto& [key, node] : *section) {
    if (std::find(known_.begin(), known_.end(), key.str()) == known_.end()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: unknown key '%s.%s'; allowed keys: %s", config_.origin(),
                          section_, key.str(), absl::StrJoin(known_, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace tune::core
