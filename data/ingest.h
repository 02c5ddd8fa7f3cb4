// `tune ingest`: mines a git repository into a dataset directory that `tune train` reads.
//
// Pipeline (docs/ingest.md): tree of a rev from the object database (+ optional history) ->
// path filters -> per blob, in parallel: content filters, secret redaction, MinHash (cached by
// blob id + path under a fingerprint of the config and rules) -> exact dedup by blob id and
// near dedup by LSH, in path order -> whole-file held-out split -> per file, in parallel:
// retrieval index of the files at rev (tree-sitter chunks, data/code_chunks.h) -> per file, in
// parallel: plain / FIM samples (tree-sitter or random middles, PSM / SPM, repo context with
// retrieved chunks) -> token shards, manifest.json, report.json, summary.txt, split.json,
// heldout.jsonl (held-out files as text, for `tune eval`), retrieval.jsonl (retrieval/index.h, for
// `tune serve --index` and `tune eval`), blob cache. The dataset is built in
// `<out>.tmp-XXXXXX` and renamed into place; on any error the temp directory is removed, so a
// partial dataset is never left behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "data/dedup.h"
#include "data/filters.h"
#include "data/fim.h"

namespace tune::data {

struct IngestOptions {
  std::filesystem::path repo;
  std::string rev = "HEAD";
  std::filesystem::path out;
  std::filesystem::path tokenizer;  // tokenizer.json, tokenizer.model or a model directory
  std::string repo_name;  // for <|repo_name|>; default: the repository directory name without .git

  FilterOptions filters;
  bool near_dedup = true;
  MinHashOptions minhash;
  FimOptions fim;
  // Write retrieval.jsonl (docs/retrieval.md) and give samples retrieved context; false skips the
  // tree-sitter chunking of every file (the largest cost of a first ingest) and both.
  bool retrieval_index = true;
  // Plain samples instead of an error when the tokenizer has no FIM tokens and fim_rate > 0.
  bool allow_missing_fim_tokens = true;

  // History mode: also mine the files of the last N commits / of commits since a date.
  int64_t history_commits = 0;  // 0: only the tree of `rev`
  std::string history_since;    // "YYYY-MM-DD" (UTC); empty: no date limit

  double eval_fraction = 0.05;    // whole files held out by a stable hash of the path
  std::string eval_after_commit;  // also hold out files changed after this commit
  int64_t seed = 1234;            // sample randomness (FIM draws); the split has its own
  int64_t split_seed = 0;

  int64_t shard_tokens = 1 << 24;  // tokens per shard file (a document never straddles two)
  int64_t threads = 0;             // 0: hardware concurrency
  bool incremental = true;         // reuse the dataset already at `out` (cache, split)
  bool progress = true;            // progress on stderr
};

// The [ingest] section of `config` over the defaults of IngestOptions. InvalidArgument naming the
// file, key and allowed range on a bad or unknown key.
absl::StatusOr<IngestOptions> ParseIngestOptions(const core::Config& config);

struct IngestResult {
  std::filesystem::path dataset;  // == options.out
  std::string commit;
  uint64_t files_seen = 0;
  uint64_t files_kept = 0;
  uint64_t train_tokens = 0;
  uint64_t eval_tokens = 0;
  std::string summary;        // the human summary also written to summary.txt
  double mine_seconds = 0;    // read + filter + secrets + MinHash + dedup
  double sample_seconds = 0;  // tokenize + FIM + shards
};

absl::StatusOr<IngestResult> RunIngest(const IngestOptions& options);

}  // namespace tune::data
