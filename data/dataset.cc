#include "data/dataset.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/json_fields.h"
#include "core/status.h"
#include "data/shard.h"
#include "tokenizer/tokenizer.h"

namespace tune::data {
namespace {

using nlohmann::json;

constexpr char kRewriteHint[] = "re-run `tune ingest`";

// Parses `path` as a JSON object of this build's format version; `fields` reads it.
absl::StatusOr<json> ReadJson(const std::filesystem::path& path, const core::JsonFields& fields) {
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is not a JSON object; hint: %s", path.string(), kRewriteHint));
  }
  TUNE_RETURN_IF_ERROR(fields.CheckHeader(j, "", kDatasetFormatVersion));
  return j;
}

core::JsonFields Fields(const std::filesystem::path& path) {
  return core::JsonFields(path.string(), kRewriteHint, absl::StatusCode::kInvalidArgument);
}

}  // namespace

std::string ManifestToJson(const DatasetManifest& m) {
  json shards = json::array();
  for (const ShardInfo& s : m.shards) {
    shards.push_back({{"file", s.file},
                      {"split", s.split},
                      {"tokens", s.tokens},
                      {"documents", s.documents},
                      {"xxh64", absl::StrFormat("%016x", s.checksum)}});
  }
  json j = {
      {"format_version", m.format_version},
      {"kind", "tune-dataset"},
      {"shard_format_version", kShardFormatVersion},
      {"source",
       {{"repo", m.repo}, {"rev", m.rev}, {"commit", m.commit}, {"repo_name", m.repo_name}}},
      {"tokenizer",
       {{"path", m.tokenizer_path},
        {"fingerprint", m.tokenizer_fingerprint},
        {"vocab_size", m.vocab_size}}},
      {"config_fingerprint", m.config_fingerprint},
      {"config", json::parse(m.config_json)},
      {"shards", shards},
      {"counts",
       {{"train_tokens", m.train_tokens},
        {"eval_tokens", m.eval_tokens},
        {"train_documents", m.train_documents},
        {"eval_documents", m.eval_documents}}},
  };
  return j.dump(2) + "\n";
}

absl::StatusOr<DatasetManifest> ReadManifest(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "manifest.json";
  const core::JsonFields f = Fields(path);
  TUNE_ASSIGN_OR_RETURN(json j, ReadJson(path, f));
  DatasetManifest m;
  using Type = json::value_t;
  TUNE_ASSIGN_OR_RETURN(const json* source, f.Field(j, "source", Type::object));
  TUNE_ASSIGN_OR_RETURN(m.repo, f.String(*source, "repo", "source."));
  TUNE_ASSIGN_OR_RETURN(m.rev, f.String(*source, "rev", "source."));
  TUNE_ASSIGN_OR_RETURN(m.commit, f.String(*source, "commit", "source."));
  TUNE_ASSIGN_OR_RETURN(m.repo_name, f.String(*source, "repo_name", "source."));
  TUNE_ASSIGN_OR_RETURN(const json* tok, f.Field(j, "tokenizer", Type::object));
  TUNE_ASSIGN_OR_RETURN(m.tokenizer_path, f.String(*tok, "path", "tokenizer."));
  TUNE_ASSIGN_OR_RETURN(m.tokenizer_fingerprint, f.String(*tok, "fingerprint", "tokenizer."));
  TUNE_ASSIGN_OR_RETURN(uint64_t vocab_size, f.Unsigned(*tok, "vocab_size", INT32_MAX, "tokenizer."));
  m.vocab_size = static_cast<int32_t>(vocab_size);
  TUNE_ASSIGN_OR_RETURN(m.config_fingerprint, f.String(j, "config_fingerprint"));
  TUNE_ASSIGN_OR_RETURN(const json* config, f.Field(j, "config", Type::object));
  m.config_json = config->dump();
  TUNE_ASSIGN_OR_RETURN(const json* counts, f.Field(j, "counts", Type::object));
  TUNE_ASSIGN_OR_RETURN(m.train_tokens, f.Unsigned(*counts, "train_tokens", UINT64_MAX, "counts."));
  TUNE_ASSIGN_OR_RETURN(m.eval_tokens, f.Unsigned(*counts, "eval_tokens", UINT64_MAX, "counts."));
  TUNE_ASSIGN_OR_RETURN(m.train_documents, f.Unsigned(*counts, "train_documents", UINT64_MAX, "counts."));
  TUNE_ASSIGN_OR_RETURN(m.eval_documents, f.Unsigned(*counts, "eval_documents", UINT64_MAX, "counts."));
  TUNE_ASSIGN_OR_RETURN(const json* shards, f.Field(j, "shards", Type::array));
  for (size_t i = 0; i < shards->size(); ++i) {
    const json& s = (*shards)[i];
    const std::string where = absl::StrFormat("shards[%d].", i);
    ShardInfo info;
    TUNE_ASSIGN_OR_RETURN(info.file, f.String(s, "file", where));
    TUNE_ASSIGN_OR_RETURN(info.split, f.String(s, "split", where));
    TUNE_ASSIGN_OR_RETURN(info.tokens, f.Unsigned(s, "tokens", UINT64_MAX, where));
    TUNE_ASSIGN_OR_RETURN(info.documents, f.Unsigned(s, "documents", UINT64_MAX, where));
    TUNE_ASSIGN_OR_RETURN(std::string checksum, f.String(s, "xxh64", where));
    info.checksum = std::strtoull(checksum.c_str(), nullptr, 16);
    if (info.file.find('/') != std::string::npos || (info.split != "train" && info.split != "eval")) {
      return f.Error(where + "file", absl::StrFormat("bad shard entry '%s' (%s)", info.file, info.split));
    }
    m.shards.push_back(std::move(info));
  }
  return m;
}

std::string SplitToJson(const SplitRecord& split) {
  json j = {{"format_version", kDatasetFormatVersion},
            {"eval_fraction", split.eval_fraction},
            {"split_seed", split.split_seed},
            {"eval_after_commit", split.eval_after_commit},
            {"held_out", split.held_out}};
  return j.dump(2) + "\n";
}

absl::StatusOr<SplitRecord> ReadSplit(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "split.json";
  const core::JsonFields f = Fields(path);
  TUNE_ASSIGN_OR_RETURN(json j, ReadJson(path, f));
  SplitRecord s;
  TUNE_ASSIGN_OR_RETURN(s.eval_fraction, f.Number(j, "eval_fraction", 0.0, 1.0));
  TUNE_ASSIGN_OR_RETURN(uint64_t seed, f.Unsigned(j, "split_seed", INT64_MAX));
  s.split_seed = static_cast<int64_t>(seed);
  TUNE_ASSIGN_OR_RETURN(s.eval_after_commit, f.String(j, "eval_after_commit"));
  TUNE_ASSIGN_OR_RETURN(const json* held_out, f.Field(j, "held_out", json::value_t::array));
  for (const json& path_json : *held_out) {
    if (!path_json.is_string()) return f.Error("held_out", "holds something other than a string");
    s.held_out.insert(path_json.get<std::string>());
  }
  return s;
}

absl::Status DumpShards(const std::filesystem::path& dir, bool decode, int64_t limit,
                        std::ostream& out) {
  TUNE_ASSIGN_OR_RETURN(DatasetManifest manifest, ReadManifest(dir));
  std::unique_ptr<tokenizer::Tokenizer> tok;
  if (decode) {
    auto loaded = tokenizer::Tokenizer::Load(manifest.tokenizer_path);
    if (!loaded.ok()) {
      return core::Annotate(loaded.status(), "loading the dataset's tokenizer for --decode");
    }
    tok = *std::move(loaded);
    if (tok->Fingerprint() != manifest.tokenizer_fingerprint) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "tokenizer '%s' changed since the dataset was written (fingerprint %s, manifest %s); "
          "hint: re-run `tune ingest`",
          manifest.tokenizer_path, tok->Fingerprint(), manifest.tokenizer_fingerprint));
    }
  }
  out << absl::StrFormat("dataset %s: commit %s, %d train tokens, %d eval tokens\n", dir.string(),
                         manifest.commit, manifest.train_tokens, manifest.eval_tokens);
  for (const ShardInfo& info : manifest.shards) {
    TUNE_ASSIGN_OR_RETURN(ShardReader shard, ShardReader::Open(dir / info.file));
    out << absl::StrFormat("== %s (%s): %d tokens, %d documents\n", info.file, info.split,
                           shard.num_tokens(), shard.num_documents());
    uint64_t n = std::min<uint64_t>(shard.num_documents(), static_cast<uint64_t>(limit));
    for (uint64_t d = 0; d < n; ++d) {
      auto ids = shard.document_tokens(d);
      auto mask = shard.document_mask(d);
      uint64_t trained = 0;
      for (uint8_t m : mask) trained += m;
      out << absl::StrFormat("-- document %d: %d tokens, %d in the loss\n", d, ids.size(), trained);
      if (!decode) {
        for (size_t i = 0; i < ids.size(); ++i) out << (i ? " " : "") << ids[i];
        out << "\n";
        continue;
      }
      // Decode runs of ordinary tokens together (multi-byte characters span tokens); show
      // control tokens by their text and wrap masked-out runs in [[...]].
      const tokenizer::FimTokens& fim = tok->fim();
      auto is_control = [&](int32_t id) {
        for (const auto& t : {fim.prefix, fim.middle, fim.suffix, fim.pad, fim.repo_name,
                              fim.file_sep, fim.eot, tok->bos_id(), tok->eos_id()}) {
          if (t && *t == id) return true;
        }
        return false;
      };
      size_t i = 0;
      while (i < ids.size()) {
        if (is_control(ids[i])) {
          out << tok->TokenText(ids[i]);
          ++i;
          continue;
        }
        size_t j = i;
        while (j < ids.size() && !is_control(ids[j]) && mask[j] == mask[i]) ++j;
        std::string text = tok->Decode(ids.subspan(i, j - i));
        out << (mask[i] ? text : "[[" + text + "]]");
        i = j;
      }
      out << "\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace tune::data
