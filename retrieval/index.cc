#include "retrieval/index.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/json_fields.h"
#include "core/json_lines.h"
#include "core/status.h"
#include "retrieval/terms.h"

namespace tune::retrieval {
namespace {

using nlohmann::json;

// BM25 as Lucene scores it (k1 = 1.2, b = 0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5))).
constexpr double kK1 = 1.2, kB = 0.75;
// A chunk that defines a name the query uses gets this many times the name's idf on top: the
// definition of a function called at the cursor is the chunk a completion most often needs.
constexpr double kDefinitionWeight = 3.0;
// A hit whose distinct terms overlap an better hit's this much (Jaccard) adds nothing the prompt
// does not already get: the same call copied into many handlers would otherwise fill every slot.
constexpr double kRedundantJaccard = 0.7;

absl::flat_hash_set<std::string> TermSet(std::string_view text) {
  std::vector<std::string> terms = Terms(text);
  return absl::flat_hash_set<std::string>(std::make_move_iterator(terms.begin()), std::make_move_iterator(terms.end()));
}

double Jaccard(const absl::flat_hash_set<std::string>& a, const absl::flat_hash_set<std::string>& b) {
  size_t common = 0;
  for (const std::string& t : a) common += b.count(t);
  const size_t all = a.size() + b.size() - common;
  return all == 0 ? 1.0 : static_cast<double>(common) / static_cast<double>(all);
}

double Idf(size_t chunks, size_t df) {
  const double n = static_cast<double>(chunks), d = static_cast<double>(df);
  return std::log(1.0 + (n - d + 0.5) / (d + 0.5));
}

constexpr core::JsonLinesFormat kFormat{"tune-retrieval-index", kIndexFormatVersion,
                                        "re-run `tune ingest` to rewrite the index"};

absl::StatusOr<IndexedFile> ParseFile(const json& j, const core::JsonFields& f) {
  IndexedFile out;
  TUNE_ASSIGN_OR_RETURN(out.path, f.String(j, "path"));
  TUNE_ASSIGN_OR_RETURN(out.language, f.String(j, "language"));
  TUNE_ASSIGN_OR_RETURN(out.blob, f.String(j, "blob"));
  TUNE_ASSIGN_OR_RETURN(out.heldout, f.Bool(j, "heldout"));
  TUNE_ASSIGN_OR_RETURN(const json* chunks, f.Field(j, "chunks", json::value_t::array));
  for (size_t i = 0; i < chunks->size(); ++i) {
    const json& c = (*chunks)[i];
    const std::string where = absl::StrFormat("chunks[%d].", i);
    IndexedChunk chunk;
    TUNE_ASSIGN_OR_RETURN(uint64_t first_line, f.Unsigned(c, "line", UINT32_MAX, where));
    chunk.line = static_cast<uint32_t>(first_line);
    TUNE_ASSIGN_OR_RETURN(chunk.text, f.String(c, "text", where));
    TUNE_ASSIGN_OR_RETURN(const json* defines, f.Field(c, "defines", json::value_t::array, where));
    for (const json& name : *defines) {
      if (!name.is_string()) return f.Error(where + "defines", "holds something other than a string");
      chunk.defines.push_back(name.get<std::string>());
    }
    out.chunks.push_back(std::move(chunk));
  }
  return out;
}

}  // namespace

Query CursorQuery(std::string_view prefix, std::string_view suffix) {
  Query q;
  q.text = std::string(LastLines(prefix, kQueryPrefixLines + 1)) + std::string(FirstLines(suffix, kQuerySuffixLines));
  q.near = std::string(LastLines(prefix, kNearPrefixLines)) + std::string(FirstLines(suffix, 1));
  return q;
}

Index::Index(std::string commit, std::string repo_name, std::vector<IndexedFile> files)
    : commit_(std::move(commit)), repo_name_(std::move(repo_name)), files_(std::move(files)) {
  Build();
}

void Index::Build() {
  uint64_t total_terms = 0;
  for (uint32_t f = 0; f < files_.size(); ++f) {
    for (uint32_t c = 0; c < files_[f].chunks.size(); ++c) {
      const auto id = static_cast<uint32_t>(chunk_ids_.size());
      const IndexedChunk& chunk = files_[f].chunks[c];
      chunk_ids_.emplace_back(f, c);
      absl::flat_hash_map<std::string, uint32_t> counts;
      std::vector<std::string> terms = Terms(chunk.text);
      // The file's path words too: code names a module by its file (imports, includes,
      // `ledger_util.total(...)` is in lib/ledger_util.py).
      for (std::string& t : Terms(files_[f].path)) terms.push_back(std::move(t));
      for (const std::string& t : terms) ++counts[t];
      for (auto& [term, count] : counts) postings_[term].push_back({id, count});
      length_norm_.push_back(static_cast<double>(terms.size()));
      total_terms += terms.size();
      for (const std::string& name : chunk.defines) definitions_[name].push_back(id);
    }
  }
  if (!chunk_ids_.empty()) {
    const double mean = std::max(1.0, static_cast<double>(total_terms) / static_cast<double>(chunk_ids_.size()));
    for (double& n : length_norm_) n = kK1 * (1 - kB + kB * n / mean);
  }
}

std::vector<Hit> Index::Search(const Query& query) const {
  if (chunk_ids_.empty() || query.k <= 0) return {};
  const size_t n = chunk_ids_.size();
  // The query's distinct terms as (weight x idf, postings), highest first: common words add
  // little to BM25 and cost the most.
  std::vector<std::pair<double, const std::vector<Posting>*>> terms;
  absl::flat_hash_set<std::string> seen;
  for (const auto& [text, weight] : {std::pair{&query.near, kNearWeight}, std::pair{&query.text, 1.0}}) {
    for (std::string& t : Terms(*text)) {
      auto it = postings_.find(t);
      if (it != postings_.end() && seen.insert(std::move(t)).second) {
        terms.emplace_back(weight * Idf(n, it->second.size()), &it->second);
      }
    }
  }
  std::sort(terms.begin(), terms.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (terms.size() > static_cast<size_t>(kMaxQueryTerms)) terms.resize(kMaxQueryTerms);
  std::vector<float> score(n, 0.0f);
  std::vector<uint32_t> touched;
  auto add = [&](uint32_t id, double s) {
    if (score[id] == 0.0f) touched.push_back(id);
    score[id] += static_cast<float>(s);
  };
  for (const auto& [weighted_idf, postings] : terms) {
    for (const Posting& p : *postings) {
      const double tf = p.count;
      add(p.chunk, weighted_idf * tf * (kK1 + 1) / (tf + length_norm_[p.chunk]));
    }
  }
  absl::flat_hash_set<std::string_view> names;
  for (std::string_view id : Identifiers(query.near)) {
    auto def = definitions_.find(absl::string_view(id.data(), id.size()));
    if (def == definitions_.end() || !names.insert(id).second) continue;
    auto term = postings_.find(Terms(id).front());
    const double idf = term != postings_.end() ? Idf(n, term->second.size()) : Idf(n, 1);
    for (uint32_t chunk : def->second) add(chunk, kDefinitionWeight * idf);
  }
  std::vector<Hit> hits;
  for (uint32_t id : touched) {
    const auto [f, c] = chunk_ids_[id];
    const IndexedFile& file = files_[f];
    if ((query.exclude_heldout && file.heldout) || file.path == query.exclude_path || score[id] <= 0) continue;
    hits.push_back({f, c, score[id]});
  }
  auto better = [](const Hit& a, const Hit& b) {
    return a.score != b.score ? a.score > b.score : std::pair(a.file, a.chunk) < std::pair(b.file, b.chunk);
  };
  // Best first, skipping near-copies of a hit already taken; candidates beyond 8k are not looked at.
  const size_t k = static_cast<size_t>(query.k), candidates = std::min(hits.size(), 8 * k);
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(candidates), hits.end(), better);
  std::vector<Hit> taken;
  std::vector<absl::flat_hash_set<std::string>> taken_terms;
  for (size_t i = 0; i < candidates && taken.size() < k; ++i) {
    if (query.skip && query.skip(files_[hits[i].file], chunk(hits[i]))) continue;
    absl::flat_hash_set<std::string> terms = TermSet(chunk(hits[i]).text);
    const bool redundant = std::any_of(taken_terms.begin(), taken_terms.end(), [&](const auto& t) {
      return Jaccard(terms, t) > kRedundantJaccard;
    });
    if (redundant) continue;
    taken.push_back(hits[i]);
    taken_terms.push_back(std::move(terms));
  }
  return taken;
}

std::vector<std::pair<uint32_t, uint32_t>> Index::Defining(std::string_view name) const {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  auto it = definitions_.find(absl::string_view(name.data(), name.size()));
  if (it == definitions_.end()) return out;
  for (uint32_t id : it->second) out.push_back(chunk_ids_[id]);
  return out;
}

absl::Status Index::Write(const std::filesystem::path& dir) const {
  TUNE_ASSIGN_OR_RETURN(core::AtomicFileWriter out, core::AtomicFileWriter::Open(dir / kIndexFileName));
  json header = {{"format", "tune-retrieval-index"}, {"format_version", kIndexFormatVersion},
                 {"commit", commit_},                {"repo_name", repo_name_},
                 {"files", files_.size()}};
  TUNE_RETURN_IF_ERROR(out.Append(header.dump() + "\n"));
  for (const IndexedFile& f : files_) {
    json chunks = json::array();
    for (const IndexedChunk& c : f.chunks) {
      chunks.push_back({{"line", c.line}, {"text", c.text}, {"defines", c.defines}});
    }
    json line = {{"path", f.path}, {"language", f.language}, {"blob", f.blob}, {"heldout", f.heldout}, {"chunks", chunks}};
    TUNE_RETURN_IF_ERROR(out.Append(line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"));
  }
  return out.Commit();
}

absl::StatusOr<Index> Index::Read(const std::filesystem::path& path) {
  const std::filesystem::path file = std::filesystem::is_directory(path) ? path / kIndexFileName : path;
  Index index;
  absl::StatusOr<core::JsonLinesHeader> header =
      core::ReadJsonLines(file, kFormat, [&](const json& j, const core::JsonFields& f) {
        TUNE_ASSIGN_OR_RETURN(IndexedFile parsed, ParseFile(j, f));
        index.files_.push_back(std::move(parsed));
        return absl::OkStatus();
      });
  if (absl::IsNotFound(header.status())) {
    return absl::NotFoundError(absl::StrFormat(
        "'%s' not found: no retrieval index there; hint: point at a dataset written by `tune ingest` "
        "(it writes %s beside the shards), or re-run `tune ingest`", file.string(), kIndexFileName));
  }
  TUNE_RETURN_IF_ERROR(header.status());
  index.commit_ = std::move(header->commit);
  index.repo_name_ = std::move(header->repo_name);
  index.Build();
  return index;
}

}  // namespace tune::retrieval
