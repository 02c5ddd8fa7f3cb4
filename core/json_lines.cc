#include "core/json_lines.h"

#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "core/file.h"

namespace tune::core {

absl::StatusOr<JsonLinesHeader> ReadJsonLines(const std::filesystem::path& file, const JsonLinesFormat& format,
                                              const JsonLinesReader& record) {
  absl::StatusOr<std::string> text = ReadFile(file);
  if (!text.ok()) return text.status();
  auto line_error = [&](size_t line, std::string_view what) {
    return absl::DataLossError(absl::StrFormat("'%s' line %d: %s; hint: %s", file.string(), line, what, format.hint));
  };
  JsonLinesHeader header;
  uint64_t expected = 0, records = 0;
  size_t line = 0, start = 0;
  while (start < text->size()) {
    const size_t end = text->find('\n', start);
    if (end == std::string::npos) return line_error(line + 1, "no final newline (truncated)");
    const nlohmann::json j = nlohmann::json::parse(std::string_view(*text).substr(start, end - start), nullptr, false);
    start = end + 1;
    ++line;
    if (j.is_discarded() || !j.is_object()) return line_error(line, "not a JSON object");
    const JsonFields fields(absl::StrFormat("%s line %d", file.string(), line), std::string(format.hint));
    if (line == 1) {
      if (absl::Status st = fields.CheckHeader(j, format.format, format.version); !st.ok()) return st;
      absl::StatusOr<std::string> commit = fields.String(j, "commit");
      if (!commit.ok()) return commit.status();
      absl::StatusOr<std::string> repo_name = fields.String(j, "repo_name");
      if (!repo_name.ok()) return repo_name.status();
      absl::StatusOr<uint64_t> files = fields.Unsigned(j, "files", UINT32_MAX);
      if (!files.ok()) return files.status();
      header = {*std::move(commit), *std::move(repo_name)};
      expected = *files;
      continue;
    }
    if (records == expected) return line_error(line, "more files than the header lists");
    if (absl::Status st = record(j, fields); !st.ok()) return st;
    ++records;
  }
  if (line == 0) return line_error(1, "empty file");
  if (records != expected) {
    return line_error(line, absl::StrFormat("the header lists %d files but %d follow", expected, records));
  }
  return header;
}

}  // namespace tune::core
