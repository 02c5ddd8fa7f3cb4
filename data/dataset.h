// The dataset directory `tune ingest` writes and `tune train` reads:
//   manifest.json   format version, source repo and commit, tokenizer, config, shards, counts
//   train-NNNNN.tshard / eval-NNNNN.tshard   token shards (data/shard.h)
//   report.json + summary.txt   what was kept and dropped, per reason and language
//   split.json      held-out paths, so a retrain keeps the same split
//   heldout.jsonl   held-out files as text with their repo context (data/heldout.h): `tune eval`
//   blob_cache.bin  per-blob results for incremental re-runs (data/blob_cache.h)
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::data {

inline constexpr int kDatasetFormatVersion = 1;

struct ShardInfo {
  std::string file;   // relative to the dataset directory
  std::string split;  // "train" or "eval"
  uint64_t tokens = 0;
  uint64_t documents = 0;
  uint64_t checksum = 0;  // XXH64 of the shard payload (as in its header)
};

struct DatasetManifest {
  int format_version = kDatasetFormatVersion;
  std::string repo;  // absolute path of the source repository
  std::string rev;
  std::string commit;
  std::string repo_name;
  std::string tokenizer_path;
  std::string tokenizer_fingerprint;
  int32_t vocab_size = 0;
  std::string config_fingerprint;  // of everything that changes per-blob results
  std::string config_json;         // the effective [ingest] options, as a JSON object
  std::vector<ShardInfo> shards;
  uint64_t train_tokens = 0, eval_tokens = 0, train_documents = 0, eval_documents = 0;
};

std::string ManifestToJson(const DatasetManifest& manifest);
// Reads <dir>/manifest.json. NotFound if absent; FailedPrecondition for another format version;
// InvalidArgument naming the field when malformed.
absl::StatusOr<DatasetManifest> ReadManifest(const std::filesystem::path& dir);

struct SplitRecord {
  double eval_fraction = 0;
  int64_t split_seed = 0;
  std::string eval_after_commit;
  std::set<std::string> held_out;
};
std::string SplitToJson(const SplitRecord& split);
absl::StatusOr<SplitRecord> ReadSplit(const std::filesystem::path& dir);

// `tune debug shards`: prints each shard's counts and its first `limit` documents per shard
// (ids, or with `decode` the text with sentinels shown as their token text, e.g.
// <|fim_prefix|>, and loss-masked spans in [[...]]); decoding loads the manifest's tokenizer.
absl::Status DumpShards(const std::filesystem::path& dir, bool decode, int64_t limit,
                        std::ostream& out);

}  // namespace tune::data
