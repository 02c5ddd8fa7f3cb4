#include "data/dataset.h"

#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "data/shard.h"
#include "tokenizer/tokenizer.h"

namespace tune::data {
namespace {

using nlohmann::json;

// Whether `value` converts to T exactly: get<int>() converts a float or an integer out of range
// unchecked (undefined behaviour for 1e20; found by fuzz/dataset) and wraps 2^64-1.
template <typename T>
bool FitsIn(const json& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value.is_boolean();
  } else if constexpr (std::is_floating_point_v<T>) {
    return value.is_number();
  } else if constexpr (std::is_integral_v<T>) {
    if (value.is_number_unsigned()) return std::in_range<T>(value.get<uint64_t>());
    return value.is_number_integer() && std::in_range<T>(value.get<int64_t>());
  } else {
    return true;  // strings, arrays, objects: get<T>() checks the type and throws
  }
}

absl::StatusOr<json> ReadJson(const std::filesystem::path& path) {
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is not a JSON object; hint: re-run `tune ingest`", path.string()));
  }
  const auto v = j.find("format_version");
  const int version = v != j.end() && FitsIn<int>(*v) ? v->get<int>() : 0;
  if (version != kDatasetFormatVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "'%s' has format_version %d, this build reads %d; hint: re-run `tune ingest`",
        path.string(), version, kDatasetFormatVersion));
  }
  return j;
}

// Typed field access with an error naming the file and field.
template <typename T>
absl::Status Field(const json& j, const char* key, T& out, const std::filesystem::path& path) {
  auto it = j.find(key);
  if (it == j.end()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s': missing field '%s'", path.string(), key));
  }
  const auto wrong = [&] {
    return absl::InvalidArgumentError(absl::StrFormat(
        "'%s': field '%s' has the wrong type or is out of range", path.string(), key));
  };
  if (!FitsIn<T>(*it)) return wrong();
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return wrong();
  }
  return absl::OkStatus();
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
  std::filesystem::path path = dir / "manifest.json";
  TUNE_ASSIGN_OR_RETURN(json j, ReadJson(path));
  DatasetManifest m;
  json source, tok, counts, shards;
  TUNE_RETURN_IF_ERROR(Field(j, "source", source, path));
  TUNE_RETURN_IF_ERROR(Field(j, "tokenizer", tok, path));
  TUNE_RETURN_IF_ERROR(Field(j, "counts", counts, path));
  TUNE_RETURN_IF_ERROR(Field(j, "shards", shards, path));
  TUNE_RETURN_IF_ERROR(Field(source, "repo", m.repo, path));
  TUNE_RETURN_IF_ERROR(Field(source, "rev", m.rev, path));
  TUNE_RETURN_IF_ERROR(Field(source, "commit", m.commit, path));
  TUNE_RETURN_IF_ERROR(Field(source, "repo_name", m.repo_name, path));
  TUNE_RETURN_IF_ERROR(Field(tok, "path", m.tokenizer_path, path));
  TUNE_RETURN_IF_ERROR(Field(tok, "fingerprint", m.tokenizer_fingerprint, path));
  TUNE_RETURN_IF_ERROR(Field(tok, "vocab_size", m.vocab_size, path));
  TUNE_RETURN_IF_ERROR(Field(j, "config_fingerprint", m.config_fingerprint, path));
  json config;
  TUNE_RETURN_IF_ERROR(Field(j, "config", config, path));
  m.config_json = config.dump();
  TUNE_RETURN_IF_ERROR(Field(counts, "train_tokens", m.train_tokens, path));
  TUNE_RETURN_IF_ERROR(Field(counts, "eval_tokens", m.eval_tokens, path));
  TUNE_RETURN_IF_ERROR(Field(counts, "train_documents", m.train_documents, path));
  TUNE_RETURN_IF_ERROR(Field(counts, "eval_documents", m.eval_documents, path));
  for (const json& s : shards) {
    ShardInfo info;
    std::string checksum;
    TUNE_RETURN_IF_ERROR(Field(s, "file", info.file, path));
    TUNE_RETURN_IF_ERROR(Field(s, "split", info.split, path));
    TUNE_RETURN_IF_ERROR(Field(s, "tokens", info.tokens, path));
    TUNE_RETURN_IF_ERROR(Field(s, "documents", info.documents, path));
    TUNE_RETURN_IF_ERROR(Field(s, "xxh64", checksum, path));
    info.checksum = std::strtoull(checksum.c_str(), nullptr, 16);
    if (info.file.find('/') != std::string::npos ||
        (info.split != "train" && info.split != "eval")) {
      return absl::InvalidArgumentError(
          absl::StrFormat("'%s': bad shard entry '%s' (%s)", path.string(), info.file, info.split));
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
  std::filesystem::path path = dir / "split.json";
  TUNE_ASSIGN_OR_RETURN(json j, ReadJson(path));
  SplitRecord s;
  std::vector<std::string> held_out;
  TUNE_RETURN_IF_ERROR(Field(j, "eval_fraction", s.eval_fraction, path));
  TUNE_RETURN_IF_ERROR(Field(j, "split_seed", s.split_seed, path));
  TUNE_RETURN_IF_ERROR(Field(j, "eval_after_commit", s.eval_after_commit, path));
  TUNE_RETURN_IF_ERROR(Field(j, "held_out", held_out, path));
  s.held_out.insert(held_out.begin(), held_out.end());
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
