// The repository index `tune ingest` writes beside the shards and `tune serve --index`,
// `tune eval` and the training samples search: code chunks (definitions found by tree-sitter,
// data/code_chunks.h, and line windows between them) ranked by BM25 over identifier terms
// (retrieval/terms.h) of the chunk and its file's path, plus a bonus for a chunk that defines a
// name used at the cursor.
//
// File `retrieval.jsonl` (UTF-8, one JSON object per line, written atomically):
//   line 1   {"format": "tune-retrieval-index", "format_version": 1, "commit": ..., "repo_name": ...,
//             "files": N}
//   N lines  {"path": ..., "language": ..., "blob": git blob id, "heldout": bool,
//             "chunks": [{"line": first line (1-based), "text": ..., "defines": [names]}]}
// Text is redacted as trained on. Held-out files are indexed (serving and eval may retrieve them)
// and flagged, so that training samples never see their text.
//
// Memory: the chunk texts plus about 8 bytes per term occurrence of postings. Search is
// read-only and safe from several threads; its cost is the postings of the query's
// kMaxQueryTerms rarest terms.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace tune::retrieval {

inline constexpr int kIndexFormatVersion = 1;
inline constexpr char kIndexFileName[] = "retrieval.jsonl";
inline constexpr int kMaxQueryTerms = 64;

// How a context chunk (a neighbouring file, a retrieved chunk, an editor's input_extra) goes into
// a FIM prompt for a family without <|repo_name|> / <|file_sep|> tokens (CodeLlama,
// DeepSeek-Coder): plain text behind llama.cpp's separator, so training (data/fim.cc) and
// serving (inference/fim_prompt.cc) lay it out the same way.
inline constexpr std::string_view kSnippetSeparator = "\n\n--- snippet ---\n\n";

struct IndexedChunk {
  uint32_t line = 1;  // first line of the chunk in its file, 1-based
  std::string text;
  std::vector<std::string> defines;  // names of the definitions that start in it
};

struct IndexedFile {
  std::string path;
  std::string language;
  std::string blob;  // git blob id: an incremental ingest re-chunks only files whose blob changed
  bool heldout = false;
  std::vector<IndexedChunk> chunks;
};

// What is searched for. Every term of `text` counts; those of `near` (the lines at the cursor)
// count kNearWeight times more, and a chunk defining a name used in `near` gets a bonus.
struct Query {
  std::string text;
  std::string near;
  std::string exclude_path;      // never return chunks of this file
  bool exclude_heldout = false;  // never return chunks of held-out files (training)
  int k = 4;
  // Chunks the caller's prompt already holds (a file in its context, text the client sent): left
  // out like the excluded ones, so the k hits are all new to the prompt. Empty: none.
  std::function<bool(const IndexedFile& file, const IndexedChunk& chunk)> skip;
};

// The query for a cursor, the code around it as an editor shows it: text = the last
// kQueryPrefixLines lines of the prefix and the first kQuerySuffixLines of the suffix; near = the
// last kNearPrefixLines of the prefix (the cursor line included) and the rest of the cursor line.
// Training samples (data/fim.cc), `tune serve --index` and `tune eval` all ask this, so the model
// trains on the retrieval it is served.
inline constexpr int kQueryPrefixLines = 20, kQuerySuffixLines = 5, kNearPrefixLines = 3;
inline constexpr double kNearWeight = 3.0;
Query CursorQuery(std::string_view prefix, std::string_view suffix);

struct Hit {
  uint32_t file = 0;
  uint32_t chunk = 0;  // index into files[file].chunks
  float score = 0;
};

class Index {
 public:
  Index() = default;
  // Indexes `files` (their terms and definitions).
  Index(std::string commit, std::string repo_name, std::vector<IndexedFile> files);

  // Writes <dir>/retrieval.jsonl atomically.
  absl::Status Write(const std::filesystem::path& dir) const;
  // Reads <dir>/retrieval.jsonl (or `path` itself when it is a file). NotFound with a hint to
  // re-run `tune ingest`; FailedPrecondition for another version; DataLoss naming the line.
  static absl::StatusOr<Index> Read(const std::filesystem::path& path);

  // The best k chunks for the query, best first, leaving out a chunk whose terms mostly repeat a
  // better one's (a copied call site); none when no term matches.
  std::vector<Hit> Search(const Query& query) const;

  const std::string& commit() const { return commit_; }
  const std::string& repo_name() const { return repo_name_; }
  const std::vector<IndexedFile>& files() const { return files_; }
  const IndexedChunk& chunk(const Hit& hit) const { return files_[hit.file].chunks[hit.chunk]; }
  const std::string& path(const Hit& hit) const { return files_[hit.file].path; }
  size_t num_chunks() const { return chunk_ids_.size(); }
  // The chunks that define `name` (exact spelling), as (file, chunk).
  std::vector<std::pair<uint32_t, uint32_t>> Defining(std::string_view name) const;

 private:
  struct Posting {
    uint32_t chunk;  // global chunk id
    uint32_t count;  // occurrences of the term in the chunk
  };
  void Build();

  std::string commit_, repo_name_;
  std::vector<IndexedFile> files_;
  std::vector<std::pair<uint32_t, uint32_t>> chunk_ids_;  // global id -> (file, chunk)
  // Per chunk, BM25's k1 x length normalisation, k1 * (1 - b + b * terms / mean terms): computed
  // once by Build (which holds each chunk's term count here until the mean is known) rather than
  // for every posting a search walks.
  std::vector<double> length_norm_;
  absl::flat_hash_map<std::string, std::vector<Posting>> postings_;
  absl::flat_hash_map<std::string, std::vector<uint32_t>> definitions_;  // name -> global ids
};

}  // namespace tune::retrieval
