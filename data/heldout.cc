#include "data/heldout.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/json_fields.h"
#include "core/json_lines.h"
#include "core/status.h"

namespace tune::data {
namespace {

using nlohmann::json;

constexpr core::JsonLinesFormat kFormat{"tune-heldout", kHeldOutFormatVersion,
                                        "re-run `tune ingest` to rewrite the dataset"};

absl::StatusOr<HeldOutFile> ParseFileLine(const json& j, const core::JsonFields& f) {
  HeldOutFile out;
  TUNE_ASSIGN_OR_RETURN(out.path, f.String(j, "path"));
  TUNE_ASSIGN_OR_RETURN(out.language, f.String(j, "language"));
  TUNE_ASSIGN_OR_RETURN(out.text, f.String(j, "text"));
  TUNE_ASSIGN_OR_RETURN(const json* context, f.Field(j, "context", json::value_t::array));
  for (size_t i = 0; i < context->size(); ++i) {
    const std::string where = absl::StrFormat("context[%d].", i);
    ContextFile c;
    TUNE_ASSIGN_OR_RETURN(c.path, f.String((*context)[i], "path", where));
    TUNE_ASSIGN_OR_RETURN(c.text, f.String((*context)[i], "text", where));
    out.context.push_back(std::move(c));
  }
  return out;
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
  HeldOutSet set;
  absl::StatusOr<core::JsonLinesHeader> header =
      core::ReadJsonLines(file, kFormat, [&](const json& j, const core::JsonFields& f) {
        TUNE_ASSIGN_OR_RETURN(HeldOutFile parsed, ParseFileLine(j, f));
        set.files.push_back(std::move(parsed));
        return absl::OkStatus();
      });
  if (absl::IsNotFound(header.status())) {
    return absl::NotFoundError(absl::StrFormat(
        "'%s' not found: the dataset was written before tune kept its held-out files as text; "
        "hint: re-run `tune ingest` with the same --out",
        file.string()));
  }
  TUNE_RETURN_IF_ERROR(header.status());
  set.commit = std::move(header->commit);
  set.repo_name = std::move(header->repo_name);
  return set;
}

}  // namespace tune::data
