#include "data/ingest.h"

#include <stdlib.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "data/blob_cache.h"
#include "data/code_chunks.h"
#include "data/dataset.h"
#include "data/heldout.h"
#include "data/internal/parallel.h"
#include "data/language.h"
#include "data/progress.h"
#include "data/repo_reader.h"
#include "data/secrets.h"
#include "data/shard.h"
#include "data/split.h"
#include "tokenizer/tokenizer.h"

namespace tune::data {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Bumped whenever a change in this file alters per-blob results (invalidates blob caches).
constexpr std::string_view kPipelineVersion = "ingest.3";
constexpr size_t kSampleWindow = 256;  // samples built ahead of the one being written
constexpr size_t kMaxNeighbours = 8;
constexpr int64_t kEvalCheckRows = 5;

// One (path, blob) to consider: the tree of the rev, plus older versions in history mode.
struct Entry {
  explicit Entry(TreeFile f) : file(std::move(f)) {}
  TreeFile file;
  DropReason reason = DropReason::kKept;
  std::string language;
  bool cache_hit = false;
  bool held_out = false;
  bool at_rev = false;  // the version in the tree of `rev` (not an older one from history)
  std::vector<Redaction> redactions;
  MinHashSignature signature;
  std::string text;  // redacted text of kept files
};

json FilterConfigJson(const IngestOptions& o) {
  const FilterOptions& f = o.filters;
  return {{"include", f.include},
          {"exclude", f.exclude},
          {"max_file_bytes", f.max_file_bytes},
          {"max_lines", f.max_lines},
          {"max_line_length", f.max_line_length},
          {"max_mean_line_length", f.max_mean_line_length},
          {"prose_max_line_length", f.prose_max_line_length},
          {"min_alpha_fraction", f.min_alpha_fraction},
          {"max_encoded_run", f.max_encoded_run},
          {"max_encoded_fraction", f.max_encoded_fraction},
          {"max_data_lines", f.max_data_lines},
          {"generated_header_lines", f.generated_header_lines}};
}

json DedupConfigJson(const IngestOptions& o) {
  return {{"near_dedup", o.near_dedup},
          {"minhash_ngram", o.minhash.ngram},
          {"minhash_permutations", o.minhash.permutations},
          {"lsh_bands", o.minhash.bands},
          {"lsh_rows", o.minhash.rows},
          {"jaccard_threshold", o.minhash.threshold}};
}

json ConfigJson(const IngestOptions& o) {
  json j = FilterConfigJson(o);
  j.update(DedupConfigJson(o));
  j.update({{"rev", o.rev},
            {"repo_name", o.repo_name},
            {"tokenizer", o.tokenizer.string()},
            {"fim_rate", o.fim.fim_rate},
            {"fim_spm_rate", o.fim.spm_rate},
            {"fim_structured_rate", o.fim.structured_rate},
            {"fim_min_middle_bytes", o.fim.min_middle_bytes},
            {"fim_max_middle_bytes", o.fim.max_middle_bytes},
            {"repo_context_rate", o.fim.repo_context_rate},
            {"repo_context_bytes", o.fim.repo_context_bytes},
            {"retrieval_index", o.retrieval_index},
            {"retrieval_chunks", o.fim.retrieval_chunks},
            {"retrieval_bytes", o.fim.retrieval_bytes},
            {"allow_missing_fim_tokens", o.allow_missing_fim_tokens},
            {"history_commits", o.history_commits},
            {"history_since", o.history_since},
            {"eval_fraction", o.eval_fraction},
            {"eval_after_commit", o.eval_after_commit},
            {"seed", o.seed},
            {"split_seed", o.split_seed},
            {"shard_tokens", o.shard_tokens}});
  return j;
}

// Fingerprint of everything a cached BlobRecord depends on.
std::string CacheFingerprint(const IngestOptions& o) {
  json j = {{"pipeline", kPipelineVersion},
            {"secret_rules", SecretRulesVersion()},
            {"filters", FilterConfigJson(o)},
            {"dedup", DedupConfigJson(o)}};
  std::string s = j.dump();
  return absl::StrFormat("%016x", XXH64(s.data(), s.size(), 0));
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

absl::StatusOr<int64_t> ParseDate(const std::string& date) {
  std::tm tm{};
  const char* end = strptime(date.c_str(), "%Y-%m-%d", &tm);
  if (end == nullptr || *end != '\0') {
    return absl::InvalidArgumentError(
        absl::StrFormat("ingest.history_since must be a date YYYY-MM-DD, got \"%s\"", date));
  }
  return static_cast<int64_t>(timegm(&tm));
}

// The temp dataset directory; removed unless Publish() succeeded.
class StagingDir {
 public:
  static absl::StatusOr<StagingDir> Create(const fs::path& out) {
    std::string pattern = out.string() + ".tmp-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return core::ErrnoStatus(errno, "cannot create the staging directory for", out);
    }
    return StagingDir(pattern);
  }
  StagingDir(StagingDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ~StagingDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

  // Renames the staging directory to `out`, replacing a previous dataset there.
  absl::Status Publish(const fs::path& out) {
    std::error_code ec;
    fs::path old;
    if (fs::exists(out)) {
      old = out.string() + ".old-" + path_.string().substr(path_.string().size() - 6);
      fs::rename(out, old, ec);
      if (ec) return core::ErrnoStatus(ec.value(), "cannot move the previous dataset aside", out);
    }
    fs::rename(path_, out, ec);
    if (ec) {
      if (!old.empty()) fs::rename(old, out, ec);
      return core::ErrnoStatus(ec.value(), "cannot move the new dataset into place", out);
    }
    path_.clear();
    if (!old.empty()) fs::remove_all(old, ec);
    return absl::OkStatus();
  }

 private:
  explicit StagingDir(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

struct LanguageStats {
  uint64_t seen = 0, kept = 0, tokens = 0;
  std::map<std::string, uint64_t> dropped;
};

struct Stats {
  std::map<std::string, LanguageStats> languages;
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> reasons{};
  std::map<std::string, uint64_t> secrets;
  uint64_t files_with_secrets = 0;
  uint64_t cache_hits = 0, cache_misses = 0;
  uint64_t samples_plain = 0, samples_psm = 0, samples_spm = 0, fim_structured = 0, fim_random = 0,
           repo_context = 0, fim_unavailable = 0, retrieval_samples = 0, retrieval_chunks = 0;
  uint64_t index_files = 0, index_chunks = 0, index_reused = 0;
  double index_seconds = 0;
  std::map<std::string, uint64_t> span_kinds;
  uint64_t bytes_kept = 0;
  uint64_t eval_near_train = 0;  // held-out files dropped as near-copies of training files
};

// Writes shards of one split, rolling over at shard_tokens.
class SplitWriter {
 public:
  SplitWriter(std::string split, const fs::path& dir, uint32_t vocab, int64_t shard_tokens)
      : split_(std::move(split)), dir_(dir), vocab_(vocab), shard_tokens_(shard_tokens) {}

  absl::Status Add(const Sample& sample) {
    if (!writer_) {
      TUNE_ASSIGN_OR_RETURN(ShardWriter w, ShardWriter::Create(dir_ / OpenShardFile(), vocab_));
      writer_ = std::make_unique<ShardWriter>(std::move(w));
    }
    TUNE_RETURN_IF_ERROR(writer_->AddDocument(sample.tokens, sample.loss_mask));
    if (static_cast<int64_t>(writer_->num_tokens()) >= shard_tokens_) return Flush();
    return absl::OkStatus();
  }
  absl::Status Flush() {
    if (!writer_) return absl::OkStatus();
    ShardInfo info;
    info.file = OpenShardFile();
    info.split = split_;
    info.tokens = writer_->num_tokens();
    info.documents = writer_->num_documents();
    TUNE_ASSIGN_OR_RETURN(info.checksum, writer_->Finish());
    shards_.push_back(info);
    writer_.reset();
    return absl::OkStatus();
  }
  const std::vector<ShardInfo>& shards() const { return shards_; }

 private:
  // Name of the shard being written: the one after those finished.
  std::string OpenShardFile() const {
    return absl::StrFormat("%s-%05d.tshard", split_, shards_.size());
  }

  std::string split_;
  fs::path dir_;
  uint32_t vocab_;
  int64_t shard_tokens_;
  std::unique_ptr<ShardWriter> writer_;
  std::vector<ShardInfo> shards_;
};

json ReportJson(const IngestOptions& o, const std::string& commit,
                const std::vector<Entry>& entries, const Stats& s, const DatasetManifest& m,
                const json& incremental) {
  json reasons = json::object();
  for (size_t r = 1; r < s.reasons.size(); ++r) {
    if (s.reasons[r])
      reasons[std::string(DropReasonName(static_cast<DropReason>(r)))] = s.reasons[r];
  }
  json languages = json::object();
  for (const auto& [name, l] : s.languages) {
    languages[name] = {
        {"seen", l.seen}, {"kept", l.kept}, {"tokens", l.tokens}, {"dropped", l.dropped}};
  }
  uint64_t kept = s.reasons[0], held_out = 0;
  for (const Entry& e : entries) held_out += e.reason == DropReason::kKept && e.held_out;
  return {
      {"format_version", kDatasetFormatVersion},
      {"source", {{"repo", m.repo}, {"rev", o.rev}, {"commit", commit}}},
      {"files", {{"seen", entries.size()}, {"kept", kept}, {"dropped", reasons}}},
      {"bytes_kept", s.bytes_kept},
      {"languages", languages},
      {"duplicates",
       {{"exact", s.reasons[static_cast<size_t>(DropReason::kExactDuplicate)]},
        {"near", s.reasons[static_cast<size_t>(DropReason::kNearDuplicate)]},
        {"params", DedupConfigJson(o)}}},
      {"secrets", {{"files", s.files_with_secrets}, {"redactions", s.secrets}}},
      {"split",
       {{"train_files", kept - held_out},
        {"eval_files", held_out},
        {"eval_fraction", o.eval_fraction},
        {"eval_after_commit", o.eval_after_commit},
        {"eval_dropped_near_train", s.eval_near_train}}},
      {"tokens", {{"train", m.train_tokens}, {"eval", m.eval_tokens}}},
      {"samples",
       {{"plain", s.samples_plain},
        {"fim_psm", s.samples_psm},
        {"fim_spm", s.samples_spm},
        {"fim_structured", s.fim_structured},
        {"fim_random", s.fim_random},
        {"fim_span_kinds", s.span_kinds},
        {"repo_context", s.repo_context},
        {"with_retrieved_chunks", s.retrieval_samples},
        {"retrieved_chunks", s.retrieval_chunks}}},
      {"retrieval_index",
       {{"files", s.index_files},
        {"chunks", s.index_chunks},
        {"files_reused", s.index_reused},
        {"seconds", s.index_seconds}}},
      {"warnings", {{"fim_tokens_unavailable", s.fim_unavailable}}},
      {"cache", {{"hits", s.cache_hits}, {"misses", s.cache_misses}}},
      {"incremental", incremental},
  };
}

std::string Summary(const json& r) {
  std::string out = absl::StrFormat(
      "tune ingest: %s @ %s\n  files: %d seen, %d kept (%d train, %d eval)\n",
      r["source"]["repo"].get<std::string>(), r["source"]["commit"].get<std::string>(),
      r["files"]["seen"].get<uint64_t>(), r["files"]["kept"].get<uint64_t>(),
      r["split"]["train_files"].get<uint64_t>(), r["split"]["eval_files"].get<uint64_t>());
  for (const auto& [reason, n] : r["files"]["dropped"].items()) {
    out += absl::StrFormat("  dropped %-22s %d\n", reason, n.get<uint64_t>());
  }
  out += absl::StrFormat("  tokens: %d train, %d eval\n", r["tokens"]["train"].get<uint64_t>(),
                         r["tokens"]["eval"].get<uint64_t>());
  const json& s = r["samples"];
  out += absl::StrFormat(
      "  samples: %d plain, %d PSM, %d SPM (%d syntax-node middles), %d with repo context\n",
      s["plain"].get<uint64_t>(), s["fim_psm"].get<uint64_t>(), s["fim_spm"].get<uint64_t>(),
      s["fim_structured"].get<uint64_t>(), s["repo_context"].get<uint64_t>());
  out += absl::StrFormat("  retrieval index: %d chunks of %d files; %d samples with %d retrieved chunks\n",
                         r["retrieval_index"]["chunks"].get<uint64_t>(), r["retrieval_index"]["files"].get<uint64_t>(),
                         s["with_retrieved_chunks"].get<uint64_t>(), s["retrieved_chunks"].get<uint64_t>());
  uint64_t redactions = 0;
  for (const auto& [rule, n] : r["secrets"]["redactions"].items()) redactions += n.get<uint64_t>();
  out += absl::StrFormat("  secrets redacted: %d in %d files\n", redactions,
                         r["secrets"]["files"].get<uint64_t>());
  if (uint64_t w = r["warnings"]["fim_tokens_unavailable"].get<uint64_t>(); w > 0) {
    out += absl::StrFormat(
        "  warning: %d samples drawn as FIM were written left-to-right: the tokenizer has no FIM "
        "tokens\n",
        w);
  }
  out += "  languages:\n";
  for (const auto& [name, l] : r["languages"].items()) {
    out += absl::StrFormat("    %-18s %6d seen %6d kept %10d tokens\n", name,
                           l["seen"].get<uint64_t>(), l["kept"].get<uint64_t>(),
                           l["tokens"].get<uint64_t>());
  }
  return out;
}


// "dir/sub" for "dir/sub/file.cc", "" for a file at the root.
std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// What one ingest run carries from phase to phase (RunIngest below is the recipe).
struct IngestRun {
  explicit IngestRun(const IngestOptions& o) : options(o), cache(""), next_cache("") {}
  const IngestOptions& options;
  fs::path out;
  std::unique_ptr<RepoReader> repo;
  std::string commit, repo_abs, repo_name, fingerprint;
  std::vector<Entry> entries;  // path order; the rev's version of a path before older ones
  BlobCache cache;              // the previous run's per-blob results
  BlobCache next_cache;         // this run's
  SplitRecord previous_split;
  json incremental = {{"previous_commit", nullptr}};
  std::set<std::string> after_cutoff;  // paths changed after ingest.eval_after_commit
  int threads = 1;
  std::vector<size_t> to_read;  // entries whose blobs are mined
  std::vector<size_t> kept;     // entries that become samples
  Stats stats;
  SplitRecord split;
  std::map<std::string, std::vector<size_t>> training_dirs;  // directory -> its training entries
  std::vector<std::vector<Neighbour>> neighbours;  // per kept entry: repo-context candidates, nearest first
  retrieval::Index index;  // the kept files at `rev`
  // The previous dataset's index, when its blob cache is valid for this run: files whose blob is
  // unchanged keep their chunks.
  std::optional<retrieval::Index> previous_index;
};

absl::StatusOr<fs::path> CheckOutput(const IngestOptions& options) {
  if (options.out.empty()) return absl::InvalidArgumentError("no output directory; hint: pass --out DIR");
  if (options.tokenizer.empty()) {
    return absl::InvalidArgumentError(
        "no tokenizer; hint: set ingest.tokenizer in the config or pass --tokenizer PATH");
  }
  const fs::path out = fs::absolute(options.out).lexically_normal();
  if (fs::exists(out) && !fs::exists(out / "manifest.json") && !(fs::is_directory(out) && fs::is_empty(out))) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "'%s' exists and is not a tune dataset; hint: pass a new --out directory", out.string()));
  }
  if (!fs::exists(options.tokenizer)) {
    return absl::NotFoundError(absl::StrFormat(
        "tokenizer '%s' not found; hint: set ingest.tokenizer or --tokenizer to a tokenizer.json, "
        "tokenizer.model or model directory",
        options.tokenizer.string()));
  }
  return out;
}

absl::Status OpenRepository(IngestRun& run) {
  TUNE_ASSIGN_OR_RETURN(run.repo, RepoReader::Open(run.options.repo));
  TUNE_ASSIGN_OR_RETURN(run.commit, run.repo->ResolveCommit(run.options.rev));
  run.repo_abs = fs::absolute(run.options.repo).lexically_normal().string();
  run.repo_name = run.options.repo_name;
  if (run.repo_name.empty()) {
    fs::path p = fs::path(run.repo_abs);
    run.repo_name = (p.has_filename() ? p.filename() : p.parent_path().filename()).string();
    // A bare repository "name.git" is called "name".
    if (run.repo_name.size() > 4 && run.repo_name.ends_with(".git")) run.repo_name.resize(run.repo_name.size() - 4);
  }
  return absl::OkStatus();
}

// The tree of `rev`, plus older blobs of the same paths in history mode, in path order.
absl::Status ListEntries(IngestRun& run) {
  const IngestOptions& o = run.options;
  TUNE_ASSIGN_OR_RETURN(std::vector<TreeFile> tree, run.repo->ListFiles(run.commit));
  std::set<std::pair<std::string, std::string>> seen_versions;
  for (TreeFile& f : tree) {
    seen_versions.emplace(f.path, f.blob_id);
    run.entries.emplace_back(std::move(f)).at_rev = true;
  }
  if (o.history_commits > 0 || !o.history_since.empty()) {
    int64_t since = 0;
    if (!o.history_since.empty()) {
      TUNE_ASSIGN_OR_RETURN(since, ParseDate(o.history_since));
    }
    TUNE_ASSIGN_OR_RETURN(std::vector<std::string> commits, run.repo->RecentCommits(run.commit, o.history_commits, since));
    for (size_t c = 1; c < commits.size(); ++c) {
      TUNE_ASSIGN_OR_RETURN(std::vector<TreeFile> old, run.repo->ListFiles(commits[c]));
      for (TreeFile& f : old) {
        if (seen_versions.emplace(f.path, f.blob_id).second) run.entries.emplace_back(std::move(f));
      }
    }
  }
  std::stable_sort(run.entries.begin(), run.entries.end(),
                   [](const Entry& a, const Entry& b) { return a.file.path < b.file.path; });
  return absl::OkStatus();
}

// The previous dataset's split and blob cache; the report says what was reused.
absl::Status LoadPrevious(IngestRun& run) {
  const IngestOptions& o = run.options;
  run.fingerprint = CacheFingerprint(o);
  run.cache = BlobCache(run.fingerprint);
  run.next_cache = BlobCache(run.fingerprint);
  if (o.incremental && fs::exists(run.out / "manifest.json")) {
    auto prev = ReadManifest(run.out);
    if (prev.ok()) {
      run.incremental["previous_commit"] = prev->commit;
      if (prev->repo == run.repo_abs) {
        auto changed = run.repo->ChangedPaths(prev->commit, run.commit);
        if (changed.ok()) run.incremental["changed_paths"] = changed->size();
      }
      if (auto split = ReadSplit(run.out); split.ok()) run.previous_split = *std::move(split);
      auto loaded = BlobCache::Load(run.out / "blob_cache.bin", run.fingerprint);
      if (loaded.ok()) {
        run.cache = *std::move(loaded);
        // The same fingerprint: the same redaction, so chunks of an unchanged blob still hold.
        if (auto index = retrieval::Index::Read(run.out); index.ok()) run.previous_index = *std::move(index);
      } else {
        run.incremental["cache_discarded"] = std::string(loaded.status().message());
      }
    } else {
      run.incremental["previous_unreadable"] = std::string(prev.status().message());
    }
  }
  if (!o.eval_after_commit.empty()) {
    TUNE_ASSIGN_OR_RETURN(std::string cutoff, run.repo->ResolveCommit(o.eval_after_commit));
    TUNE_ASSIGN_OR_RETURN(std::vector<std::string> changed, run.repo->ChangedPaths(cutoff, run.commit));
    run.after_cutoff.insert(changed.begin(), changed.end());
  }
  return absl::OkStatus();
}

// Path rules: what is dropped by name or size, and which blobs are read.
void CheckPaths(IngestRun& run) {
  for (size_t i = 0; i < run.entries.size(); ++i) {
    Entry& e = run.entries[i];
    e.reason = CheckPath(run.options.filters, e.file.path, e.file.attr_generated, e.file.attr_vendored);
    if (e.reason == DropReason::kKept && e.file.size > static_cast<uint64_t>(run.options.filters.max_file_bytes)) {
      e.reason = DropReason::kOverSize;
    }
    e.language = std::string(DetectLanguage(e.file.path, "").name);
    if (e.reason == DropReason::kKept) run.to_read.push_back(i);
  }
}

// One blob: cached result, or content filters, secrets and MinHash. Returns the bytes read.
absl::StatusOr<uint64_t> MineBlob(const IngestOptions& o, const BlobCache& cache, RepoReader& reader, Entry& e) {
  // A cached drop needs no read at all; a cached keep still needs the text.
  const BlobRecord* hit = cache.Find(e.file.blob_id, e.file.path);
  if (hit != nullptr && hit->reason != DropReason::kKept) {
    e.cache_hit = true;
    e.reason = hit->reason;
    e.language = hit->language;
    return e.file.size;
  }
  // A file whose name gives no language (e.language is still the guess from the name) can still
  // be code by its shebang: look at its first bytes before inflating all of it.
  if (hit == nullptr && e.language.empty()) {
    absl::StatusOr<std::string> head = reader.ReadBlobHead(e.file.blob_id, kLanguageHeadBytes);
    if (!head.ok()) return core::Annotate(head.status(), absl::StrFormat("reading '%s'", e.file.path));
    if (!DetectLanguage(e.file.path, *head).known()) {
      e.reason = DropReason::kUnsupportedLanguage;
      return e.file.size;
    }
  }
  absl::StatusOr<std::string> blob = reader.ReadBlob(e.file.blob_id);
  if (!blob.ok()) return core::Annotate(blob.status(), absl::StrFormat("reading '%s'", e.file.path));
  const std::string& raw = *blob;
  if (hit != nullptr && (hit->redactions.empty() || hit->redactions.back().end <= raw.size())) {
    e.cache_hit = true;
    e.reason = hit->reason;
    e.language = hit->language;
    e.redactions = hit->redactions;
    e.signature = hit->signature;
  } else {
    Language lang = DetectLanguage(e.file.path, std::string_view(raw).substr(0, kLanguageHeadBytes));
    e.language = std::string(lang.name);
    e.reason = CheckContent(o.filters, lang, raw);
    if (e.reason == DropReason::kKept) e.redactions = FindSecrets(raw);
  }
  if (e.reason == DropReason::kKept) {
    e.text = ApplyRedactions(raw, e.redactions);
    if (!e.cache_hit && o.near_dedup) e.signature = ComputeMinHash(o.minhash, e.text);
  }
  return raw.size();
}

// Every blob to read, on run.threads readers (libgit2 repositories are not shared across threads).
absl::Status MineBlobs(IngestRun& run) {
  std::vector<std::unique_ptr<RepoReader>> readers(static_cast<size_t>(run.threads));
  readers[0] = std::move(run.repo);
  for (size_t t = 1; t < readers.size(); ++t) {
    TUNE_ASSIGN_OR_RETURN(readers[t], RepoReader::Open(run.options.repo));
  }
  std::vector<absl::Status> errors(run.to_read.size());
  Progress progress("mining", run.to_read.size(), run.options.progress);
  internal::ParallelFor(run.to_read.size(), run.threads, [&](size_t worker, size_t k) {
    absl::StatusOr<uint64_t> bytes = MineBlob(run.options, run.cache, *readers[worker], run.entries[run.to_read[k]]);
    if (!bytes.ok()) {
      errors[k] = bytes.status();
      return;
    }
    progress.Add(1, *bytes);
  });
  progress.Finish();
  for (const absl::Status& st : errors) TUNE_RETURN_IF_ERROR(st);
  return absl::OkStatus();
}

// This run's cache (vanished blobs are dropped), then exact and near dedup in path order.
void Dedup(IngestRun& run) {
  std::set<std::string> kept_blobs;
  LshIndex lsh(run.options.minhash);
  for (size_t k = 0; k < run.to_read.size(); ++k) {
    Entry& e = run.entries[run.to_read[k]];
    (e.cache_hit ? run.stats.cache_hits : run.stats.cache_misses)++;
    run.next_cache.Put(e.file.blob_id, e.file.path, {e.reason, e.language, e.redactions, e.signature});
    if (e.reason != DropReason::kKept) continue;
    if (!kept_blobs.insert(e.file.blob_id).second) {
      e.reason = DropReason::kExactDuplicate;
    } else if (run.options.near_dedup && lsh.FindOrInsert(static_cast<uint32_t>(k), e.signature)) {
      e.reason = DropReason::kNearDuplicate;
    }
  }
}

// Whole-file split. The greedy pass in Dedup pairs files at Jaccard 0.7 only about half the time
// (1 - (1 - 0.7^10)^25); a held-out file must never have a near-copy in training, so every
// held-out file is checked again against all training files through a far more sensitive
// banding (5 rows: a pair at 0.7 becomes a candidate with probability > 0.9999) and dropped on
// a hit.
void SplitHeldOut(IngestRun& run) {
  const IngestOptions& o = run.options;
  for (Entry& e : run.entries) {
    if (e.reason != DropReason::kKept) continue;
    e.held_out = HeldOutByHash(e.file.path, o.eval_fraction, static_cast<uint64_t>(o.split_seed)) ||
                 run.previous_split.held_out.count(e.file.path) > 0 || run.after_cutoff.count(e.file.path) > 0;
  }
  if (!o.near_dedup) return;
  MinHashOptions sensitive = o.minhash;
  sensitive.rows = std::min(kEvalCheckRows, o.minhash.permutations);
  sensitive.bands = o.minhash.permutations / sensitive.rows;
  // Held-out files are few: they are indexed, and every training file probes the index.
  LshIndex held_out_index(sensitive);
  for (size_t i = 0; i < run.entries.size(); ++i) {
    const Entry& e = run.entries[i];
    if (e.reason == DropReason::kKept && e.held_out) held_out_index.Insert(static_cast<uint32_t>(i), e.signature);
  }
  std::vector<size_t> near_train;
  for (const Entry& e : run.entries) {
    if (e.reason != DropReason::kKept || e.held_out) continue;
    // Every held-out near-copy of this training file, not just the first.
    while (std::optional<uint32_t> hit = held_out_index.Find(e.signature)) {
      near_train.push_back(*hit);
      held_out_index.Remove(*hit);
    }
  }
  for (size_t i : near_train) {
    run.entries[i].reason = DropReason::kNearDuplicate;
    ++run.stats.eval_near_train;
  }
}

// Counts per language and reason; the kept entries; the split record; the training directories.
void Tally(IngestRun& run) {
  const IngestOptions& o = run.options;
  run.split = SplitRecord{o.eval_fraction, o.split_seed, o.eval_after_commit, {}};
  for (size_t i = 0; i < run.entries.size(); ++i) {
    Entry& e = run.entries[i];
    LanguageStats& ls = run.stats.languages[e.language.empty() ? "unknown" : e.language];
    ++ls.seen;
    ++run.stats.reasons[static_cast<size_t>(e.reason)];
    // Recorded even when dropped as a near-copy of training data: never train on it later.
    if (e.held_out) run.split.held_out.insert(e.file.path);
    if (e.reason != DropReason::kKept) {
      ++ls.dropped[std::string(DropReasonName(e.reason))];
      e.text.clear();
      continue;
    }
    ++ls.kept;
    run.stats.bytes_kept += e.text.size();
    if (!e.redactions.empty()) ++run.stats.files_with_secrets;
    for (const Redaction& r : e.redactions) ++run.stats.secrets[SecretRuleIds()[r.rule]];
    run.kept.push_back(i);
    // Repo context comes from training files only: held-out text must never reach a sample.
    if (!e.held_out) run.training_dirs[DirectoryOf(e.file.path)].push_back(i);
  }
  // Held-out paths of the previous dataset stay held out even while absent from this tree.
  run.split.held_out.insert(run.previous_split.held_out.begin(), run.previous_split.held_out.end());
}

// Neighbours for repo context: training files of the same directory, nearest in path order first.
// Read-only: samples are built on several threads.
std::vector<Neighbour> NeighboursOf(const IngestRun& run, size_t i) {
  auto dir = run.training_dirs.find(DirectoryOf(run.entries[i].file.path));
  if (dir == run.training_dirs.end()) return {};
  const std::vector<size_t>& same = dir->second;
  std::vector<std::pair<size_t, size_t>> by_distance;  // (distance in the listing, entry)
  const size_t pos = std::lower_bound(same.begin(), same.end(), i) - same.begin();
  for (size_t k = 0; k < same.size(); ++k) {
    if (same[k] != i) by_distance.emplace_back(k > pos ? k - pos : pos - k, same[k]);
  }
  std::sort(by_distance.begin(), by_distance.end());
  std::vector<Neighbour> out;
  for (size_t k = 0; k < by_distance.size() && k < kMaxNeighbours; ++k) {
    const Entry& n = run.entries[by_distance[k].second];
    out.push_back({n.file.path, n.text});
  }
  return out;
}

// Every kept file's neighbours, once: its sample and, for a held-out file, heldout.jsonl use them.
void FindNeighbours(IngestRun& run) {
  run.neighbours.reserve(run.kept.size());
  for (size_t i : run.kept) run.neighbours.push_back(NeighboursOf(run, i));
}

void CountSample(Stats& stats, const std::string& language, const Sample& s) {
  stats.languages[language].tokens += s.tokens.size();
  switch (s.kind) {
    case SampleKind::kPlain:
      ++stats.samples_plain;
      break;
    case SampleKind::kPsm:
      ++stats.samples_psm;
      break;
    case SampleKind::kSpm:
      ++stats.samples_spm;
      break;
  }
  if (s.kind != SampleKind::kPlain) {
    ++(s.structured ? stats.fim_structured : stats.fim_random);
    if (s.structured) ++stats.span_kinds[std::string(SpanKindName(s.span_kind))];
  }
  stats.repo_context += s.repo_context;
  stats.retrieval_samples += s.retrieved_chunks > 0;
  stats.retrieval_chunks += static_cast<uint64_t>(s.retrieved_chunks);
  stats.fim_unavailable += s.fim_unavailable;
}

// The retrieval index over the kept files at `rev`, held-out ones flagged (training samples skip
// them; serving and eval may retrieve them), chunked in parallel.
absl::Status BuildIndex(IngestRun& run) {
  if (!run.options.retrieval_index) return absl::OkStatus();
  const auto start = std::chrono::steady_clock::now();
  std::vector<size_t> files;
  for (size_t i : run.kept) {
    if (run.entries[i].at_rev) files.push_back(i);
  }
  absl::flat_hash_map<std::string_view, const retrieval::IndexedFile*> previous;
  if (run.previous_index) {
    for (const retrieval::IndexedFile& f : run.previous_index->files()) previous[f.path] = &f;
  }
  Progress progress("indexing", files.size(), run.options.progress);
  // (the file, whether its chunks were reused)
  using Chunked = std::pair<retrieval::IndexedFile, bool>;
  auto chunk = [&](size_t k) {
    const Entry& e = run.entries[files[k]];
    Chunked out{{e.file.path, e.language, e.file.blob_id, e.held_out, {}}, false};
    auto old = previous.find(e.file.path);
    out.second = old != previous.end() && old->second->blob == e.file.blob_id;
    out.first.chunks = out.second ? old->second->chunks : ChunkSource(e.language, e.text, ChunkOptions{});
    progress.Add(1, e.text.size());
    return out;
  };
  std::vector<retrieval::IndexedFile> indexed;
  auto add = [&](size_t, Chunked c) {
    run.stats.index_reused += c.second;
    run.stats.index_chunks += c.first.chunks.size();
    indexed.push_back(std::move(c.first));
    return absl::OkStatus();
  };
  TUNE_RETURN_IF_ERROR(
      internal::OrderedParallelFor<Chunked>(files.size(), run.threads, kSampleWindow, chunk, add));
  progress.Finish();
  run.stats.index_files = indexed.size();
  run.index = retrieval::Index(run.commit, run.repo_name, std::move(indexed));
  run.previous_index.reset();
  run.stats.index_seconds = SecondsSince(start);
  return absl::OkStatus();
}

// One sample per kept file, built in parallel and written in path order to its split's shards.
absl::Status WriteSamples(IngestRun& run, const tokenizer::Tokenizer& tok, SplitWriter& train, SplitWriter& eval) {
  Progress progress("tokenizing", run.kept.size(), run.options.progress);
  auto build = [&](size_t k) {
    const Entry& e = run.entries[run.kept[k]];
    const std::string key = e.file.path + "\n" + e.file.blob_id;
    std::mt19937_64 rng(XXH64(key.data(), key.size(), static_cast<uint64_t>(run.options.seed)));
    SampleInput input{e.file.path, e.text, e.language, run.repo_name, run.neighbours[k], &run.index};
    Sample sample = BuildSample(tok, run.options.fim, input, rng);
    progress.Add(1, e.text.size());
    return sample;
  };
  auto write = [&](size_t k, Sample s) -> absl::Status {
    const Entry& e = run.entries[run.kept[k]];
    CountSample(run.stats, e.language, s);
    return (e.held_out ? eval : train).Add(s);
  };
  TUNE_RETURN_IF_ERROR(internal::OrderedParallelFor<Sample>(run.kept.size(), run.threads, kSampleWindow, build, write));
  progress.Finish();
  TUNE_RETURN_IF_ERROR(train.Flush());
  return eval.Flush();
}

// The held-out files at `rev` as text, with the repo context a sample of each gets.
HeldOutSet HeldOutFiles(const IngestRun& run) {
  HeldOutSet held_out{run.commit, run.repo_name, {}};
  for (size_t k = 0; k < run.kept.size(); ++k) {
    const Entry& e = run.entries[run.kept[k]];
    if (!e.held_out || !e.at_rev) continue;
    HeldOutFile f{e.file.path, e.language, e.text, {}};
    for (const Neighbour& n : FitRepoContext(run.neighbours[k], run.options.fim.repo_context_bytes)) {
      f.context.push_back({std::string(n.path), std::string(n.text)});
    }
    held_out.files.push_back(std::move(f));
  }
  return held_out;
}

DatasetManifest MakeManifest(const IngestRun& run, const tokenizer::Tokenizer& tok,
                             const std::vector<const SplitWriter*>& writers) {
  DatasetManifest m;
  m.repo = run.repo_abs;
  m.rev = run.options.rev;
  m.commit = run.commit;
  m.repo_name = run.repo_name;
  m.tokenizer_path = fs::absolute(run.options.tokenizer).lexically_normal().string();
  m.tokenizer_fingerprint = tok.Fingerprint();
  m.vocab_size = tok.vocab_size();
  m.config_fingerprint = run.fingerprint;
  m.config_json = ConfigJson(run.options).dump();
  for (const SplitWriter* w : writers) {
    for (const ShardInfo& s : w->shards()) {
      m.shards.push_back(s);
      (s.split == "train" ? m.train_tokens : m.eval_tokens) += s.tokens;
      (s.split == "train" ? m.train_documents : m.eval_documents) += s.documents;
    }
  }
  return m;
}

// Every file of the dataset into the staging directory, the manifest last (a directory with a
// manifest is a complete dataset), then the directory into place.
absl::Status Publish(IngestRun& run, StagingDir& staging, const DatasetManifest& manifest, const json& report,
                     const std::string& summary) {
  const fs::path& dir = staging.path();
  TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "report.json", report.dump(2) + "\n"));
  TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "summary.txt", summary));
  TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "split.json", SplitToJson(run.split)));
  TUNE_RETURN_IF_ERROR(WriteHeldOut(dir, HeldOutFiles(run)));
  if (run.options.retrieval_index) {
    TUNE_RETURN_IF_ERROR(run.index.Write(dir));
  }
  TUNE_RETURN_IF_ERROR(run.next_cache.Save(dir / "blob_cache.bin"));
  TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "manifest.json", ManifestToJson(manifest)));
  return staging.Publish(run.out);
}

absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> JoinTokenizer(
    const IngestOptions& o, std::future<absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>>>& pending) {
  auto tok = pending.get();
  if (!tok.ok()) return core::Annotate(tok.status(), "loading ingest.tokenizer");
  if (o.fim.fim_rate > 0 && !(*tok)->fim().available() && !o.allow_missing_fim_tokens) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "tokenizer '%s' has no FIM tokens but ingest.fim_rate is %g; hint: set ingest.fim_rate = 0 "
        "or ingest.allow_missing_fim_tokens = true (plain samples, counted in the report)",
        o.tokenizer.string(), o.fim.fim_rate));
  }
  return tok;
}

}  // namespace

absl::StatusOr<IngestResult> RunIngest(const IngestOptions& options) {
  IngestRun run(options);
  TUNE_ASSIGN_OR_RETURN(run.out, CheckOutput(options));
  // Loading a large tokenizer.json takes about a second on one core: it overlaps with the git
  // walk and the mining, and is joined before anything is written.
  std::future<absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>>> pending_tokenizer =
      std::async(std::launch::async, [&options] { return tokenizer::Tokenizer::Load(options.tokenizer); });
  run.threads = static_cast<int>(options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency()));

  const auto mine_start = std::chrono::steady_clock::now();
  TUNE_RETURN_IF_ERROR(OpenRepository(run));
  TUNE_RETURN_IF_ERROR(ListEntries(run));
  TUNE_RETURN_IF_ERROR(LoadPrevious(run));
  CheckPaths(run);
  TUNE_RETURN_IF_ERROR(MineBlobs(run));
  Dedup(run);
  SplitHeldOut(run);
  Tally(run);
  FindNeighbours(run);
  TUNE_RETURN_IF_ERROR(BuildIndex(run));
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tok, JoinTokenizer(options, pending_tokenizer));
  const double mine_seconds = SecondsSince(mine_start);

  const auto sample_start = std::chrono::steady_clock::now();
  TUNE_ASSIGN_OR_RETURN(StagingDir staging, StagingDir::Create(run.out));
  const auto vocab = static_cast<uint32_t>(tok->vocab_size());
  SplitWriter train("train", staging.path(), vocab, options.shard_tokens);
  SplitWriter eval("eval", staging.path(), vocab, options.shard_tokens);
  TUNE_RETURN_IF_ERROR(WriteSamples(run, *tok, train, eval));
  const double sample_seconds = SecondsSince(sample_start);

  const DatasetManifest manifest = MakeManifest(run, *tok, {&train, &eval});
  const json report = ReportJson(options, run.commit, run.entries, run.stats, manifest, run.incremental);
  IngestResult result;
  result.dataset = run.out;
  result.commit = run.commit;
  result.files_seen = run.entries.size();
  result.files_kept = run.kept.size();
  result.train_tokens = manifest.train_tokens;
  result.eval_tokens = manifest.eval_tokens;
  result.summary = Summary(report);
  result.mine_seconds = mine_seconds;
  result.sample_seconds = sample_seconds;
  TUNE_RETURN_IF_ERROR(Publish(run, staging, manifest, report, result.summary));
  return result;
}

}  // namespace tune::data
