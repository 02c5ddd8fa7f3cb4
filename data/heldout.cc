#include "data/heldout.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"

namespace tune::data {
namespace {

using nlohmann::json;

absl::Status LineError(const std::filesystem::path& file, size_t line, std::string_view what) {
  return absl::DataLossError(absl::StrFormat(
      "'%s' line %d: %s; hint: re-run `tune ingest` to rewrite the dataset", file.string(), line,
      what));
}

absl::StatusOr<HeldOutFile> ParseFileLine(const json& j, const std::filesystem::path& file,
                                          size_t line) {
  HeldOutFile f;
  try {
    f.path = j.at("path").get<std::string>();
    f.language = j.at("language").get<std::string>();
    f.text = j.at("text").get<std::string>();
    for (const json& c : j.at("context")) {
      f.context.push_back({c.at("path").get<std::string>(), c.at("text").get<std::string>()});
    }
  } catch (const json::exception& e) {
    return LineError(file, line, absl::StrFormat("malformed file record (%s)", e.what()));
  }
  return f;
}

// The header line: version, commit, repo name; returns the number of file lines that follow.
absl::StatusOr<size_t> ParseHeader(const json& j, const std::filesystem::path& file,
                                   HeldOutSet& set) {
  try {
    if (j.value("format", "") != "tune-heldout") return LineError(file, 1, "not a tune held-out file");
    // Numbers are checked before get<>(), which converts a float to an integer unchecked
    // (undefined behaviour for 1e30; found by fuzz/heldout) and wraps a negative count.
    const auto v = j.find("format_version");
    const int64_t version = v != j.end() && v->is_number_integer() ? v->get<int64_t>() : 0;
    if (version != kHeldOutFormatVersion) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "'%s' has format_version %d, this build reads %d; hint: re-run `tune ingest`",
          file.string(), version, kHeldOutFormatVersion));
    }
    set.commit = j.at("commit").get<std::string>();
    set.repo_name = j.at("repo_name").get<std::string>();
    const json& files = j.at("files");
    if (!files.is_number_unsigned()) return LineError(file, 1, "malformed header (files)");
    return files.get<size_t>();
  } catch (const json::exception& e) {
    return LineError(file, 1, absl::StrFormat("malformed header (%s)", e.what()));
  }
}

}  // namespace

absl::Status WriteHeldOut(const std::filesystem::path& dir, const HeldOutSet& set) {
  TUNE_ASSIGN_OR_RETURN(core::AtomicFileWriter out,
                        core::AtomicFileWriter::Open(dir / kHeldOutFileName));
  json header = {{"format", "tune-heldout"},
                 {"format_version", kHeldOutFormatVersion},
                 {"commit", set.commit},
                 {"repo_name", set.repo_name},
                 {"files", set.files.size()}};
  TUNE_RETURN_IF_ERROR(out.Append(header.dump() + "\n"));
  for (const HeldOutFile& f : set.files) {
    json context = json::array();
    for (const ContextFile& c : f.context) context.push_back({{"path", c.path}, {"text", c.text}});
    json line = {{"path", f.path}, {"language", f.language}, {"text", f.text}, {"context", context}};
    TUNE_RETURN_IF_ERROR(out.Append(line.dump() + "\n"));
  }
  return out.Commit();
}

absl::StatusOr<HeldOutSet> ReadHeldOut(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / kHeldOutFileName;
  absl::StatusOr<std::string> text = core::ReadFile(file);
  if (absl::IsNotFound(text.status())) {
    return absl::NotFoundError(absl::StrFormat(
        "'%s' not found: the dataset was written before tune kept its held-out files as text; "
        "hint: re-run `tune ingest` with the same --out",
        file.string()));
  }
  TUNE_RETURN_IF_ERROR(text.status());
  HeldOutSet set;
  size_t expected = 0, line = 0, start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) return LineError(file, line + 1, "no final newline (truncated)");
    json j = json::parse(std::string_view(*text).substr(start, end - start), nullptr, false);
    start = end + 1;
    ++line;
    if (j.is_discarded() || !j.is_object()) return LineError(file, line, "not a JSON object");
    if (line == 1) {
      TUNE_ASSIGN_OR_RETURN(expected, ParseHeader(j, file, set));
      continue;
    }
    TUNE_ASSIGN_OR_RETURN(HeldOutFile f, ParseFileLine(j, file, line));
    set.files.push_back(std::move(f));
  }
  if (line == 0) return LineError(file, 1, "empty file");
  if (set.files.size() != expected) {
    return LineError(file, line, absl::StrFormat("the header lists %d files but %d follow",
                                                 expected, set.files.size()));
  }
  return set;
}

}  // namespace tune::data
