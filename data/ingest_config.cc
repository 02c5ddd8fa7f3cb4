// ParseIngestOptions: the [ingest] section of a tune config (keys and ranges in docs/ingest.md).
#include "absl/strings/str_format.h"
#include "core/status.h"
#include "data/ingest.h"

namespace tune::data {

absl::StatusOr<IngestOptions> ParseIngestOptions(const core::Config& config) {
  IngestOptions o;
  core::SectionReader r(config, "ingest");
  std::string tokenizer = o.tokenizer.string();
  TUNE_RETURN_IF_ERROR(r.Read("tokenizer", tokenizer));
  o.tokenizer = tokenizer;
  TUNE_RETURN_IF_ERROR(r.Read("rev", o.rev));
  TUNE_RETURN_IF_ERROR(r.Read("repo_name", o.repo_name));
  FilterOptions& f = o.filters;
  TUNE_RETURN_IF_ERROR(r.Read("include", f.include));
  TUNE_RETURN_IF_ERROR(r.Read("exclude", f.exclude));
  TUNE_RETURN_IF_ERROR(r.Read("max_file_bytes", f.max_file_bytes, 1, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("max_lines", f.max_lines, 1, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("max_line_length", f.max_line_length, 1, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("max_mean_line_length", f.max_mean_line_length, 1, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(
      r.Read("prose_max_line_length", f.prose_max_line_length, 1, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("min_alpha_fraction", f.min_alpha_fraction, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("max_encoded_run", f.max_encoded_run, 1, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("max_encoded_fraction", f.max_encoded_fraction, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("max_data_lines", f.max_data_lines, 0, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("generated_header_lines", f.generated_header_lines, 0, 1000));
  TUNE_RETURN_IF_ERROR(r.Read("near_dedup", o.near_dedup));
  MinHashOptions& m = o.minhash;
  TUNE_RETURN_IF_ERROR(r.Read("minhash_ngram", m.ngram, 1, 64));
  TUNE_RETURN_IF_ERROR(r.Read("minhash_permutations", m.permutations, 1, kMaxMinHashPermutations));
  TUNE_RETURN_IF_ERROR(r.Read("lsh_bands", m.bands, 1, kMaxMinHashPermutations));
  TUNE_RETURN_IF_ERROR(r.Read("lsh_rows", m.rows, 1, kMaxMinHashPermutations));
  TUNE_RETURN_IF_ERROR(r.Read("jaccard_threshold", m.threshold, 0.0, 1.0));
  if (m.bands * m.rows > m.permutations) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: ingest.lsh_bands * ingest.lsh_rows (%d * %d) must not exceed "
                        "ingest.minhash_permutations (%d)",
                        config.origin(), m.bands, m.rows, m.permutations));
  }
  FimOptions& fim = o.fim;
  TUNE_RETURN_IF_ERROR(r.Read("fim_rate", fim.fim_rate, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("fim_spm_rate", fim.spm_rate, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("fim_structured_rate", fim.structured_rate, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("fim_min_middle_bytes", fim.min_middle_bytes, 1, int64_t{1} << 20));
  TUNE_RETURN_IF_ERROR(r.Read("fim_max_middle_bytes", fim.max_middle_bytes, 1, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("repo_context_rate", fim.repo_context_rate, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("repo_context_bytes", fim.repo_context_bytes, 0, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("retrieval_index", o.retrieval_index));
  TUNE_RETURN_IF_ERROR(r.Read("retrieval_chunks", fim.retrieval_chunks, 0, 64));
  TUNE_RETURN_IF_ERROR(r.Read("retrieval_bytes", fim.retrieval_bytes, 0, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("allow_missing_fim_tokens", o.allow_missing_fim_tokens));
  TUNE_RETURN_IF_ERROR(r.Read("history_commits", o.history_commits, 0, int64_t{1} << 30));
  TUNE_RETURN_IF_ERROR(r.Read("history_since", o.history_since));
  TUNE_RETURN_IF_ERROR(r.Read("eval_fraction", o.eval_fraction, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("eval_after_commit", o.eval_after_commit));
  TUNE_RETURN_IF_ERROR(r.Read("seed", o.seed, 0, INT64_MAX));
  TUNE_RETURN_IF_ERROR(r.Read("split_seed", o.split_seed, 0, INT64_MAX));
  TUNE_RETURN_IF_ERROR(r.Read("shard_tokens", o.shard_tokens, 1024, int64_t{1} << 32));
  TUNE_RETURN_IF_ERROR(r.Read("threads", o.threads, 0, 1024));
  TUNE_RETURN_IF_ERROR(r.Read("incremental", o.incremental));
  TUNE_RETURN_IF_ERROR(r.Finish());
  return o;
}

}  // namespace tune::data
