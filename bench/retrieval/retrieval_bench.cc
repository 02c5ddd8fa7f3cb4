// What repository retrieval costs at the size of a large repository: 10,000 files.
//
//   retrieval_bench [--files N] [--requests N] [--k N] [--tokenizer F] [--dir D] [--dir2 D]
//
// Corpus: the first N (10,000) source files (*.py, *.h, *.c, *.cc, *.hpp, at most 200 KB) under the
// directories (default /usr/lib/python3.11 and /usr/include), in sorted path order, as a repository
// would be indexed: chunked with tree-sitter (data/code_chunks.h, one thread), indexed, written as
// retrieval.jsonl and read back as `tune serve --index` reads it. Requests: cursors at random
// lines of random files, each searched as `tune serve` searches an /infill request
// (inference/retrieved_context.h, its own file named). Baseline, same requests, same run: encoding
// the request's prefix and suffix with the Qwen3 tokenizer, which every /infill does before it
// computes anything. Prints p50 / p95 / p99 of both and their ratio.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/common/bench_util.h"
#include "core/file.h"
#include "data/code_chunks.h"
#include "data/language.h"
#include "inference/retrieved_context.h"
#include "retrieval/index.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using tune::bench::SecondsSince;

namespace {

struct SourceFile {
  std::string path, language, text;
};

std::vector<SourceFile> LoadCorpus(const std::vector<fs::path>& dirs, int max_files) {
  std::vector<fs::path> paths;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::end(it); it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      if (it->is_regular_file(ec) && it->file_size(ec) <= 200 * 1024 &&
          (ext == ".py" || ext == ".h" || ext == ".c" || ext == ".cc" || ext == ".hpp")) {
        paths.push_back(it->path());
      }
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<SourceFile> files;
  for (const fs::path& p : paths) {
    if (static_cast<int>(files.size()) == max_files) break;
    absl::StatusOr<std::string> text = tune::core::ReadFile(p);
    if (!text.ok() || text->empty()) continue;
    const std::string path = p.string();
    const tune::data::Language language = tune::data::DetectLanguage(path, std::string_view(*text).substr(0, 4096));
    files.push_back({path, std::string(language.name), std::move(*text)});
  }
  return files;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct IndexCost {
  double chunk_s = 0, build_s = 0, load_s = 0;
  uintmax_t bytes = 0;
};

// Chunks and indexes the corpus on one thread, writes retrieval.jsonl and reads it back as
// `tune serve --index` does.
absl::StatusOr<tune::retrieval::Index> BuildAndLoad(const std::vector<SourceFile>& corpus, IndexCost& cost) {
  auto start = std::chrono::steady_clock::now();
  std::vector<tune::retrieval::IndexedFile> indexed;
  for (const SourceFile& f : corpus) {
    indexed.push_back({f.path, f.language, "", false, tune::data::ChunkSource(f.language, f.text, tune::data::ChunkOptions{})});
  }
  cost.chunk_s = SecondsSince(start);
  start = std::chrono::steady_clock::now();
  const tune::retrieval::Index built("bench", "corpus", std::move(indexed));
  cost.build_s = SecondsSince(start);
  const fs::path out = fs::temp_directory_path() / "tune-retrieval-bench";
  fs::create_directories(out);
  if (absl::Status s = built.Write(out); !s.ok()) return s;
  cost.bytes = fs::file_size(out / tune::retrieval::kIndexFileName);
  start = std::chrono::steady_clock::now();
  absl::StatusOr<tune::retrieval::Index> index = tune::retrieval::Index::Read(out);
  cost.load_s = SecondsSince(start);
  fs::remove_all(out);
  return index;
}

struct Latencies {
  std::vector<double> retrieval_ms, tokenize_ms;
  int64_t added = 0;
};

// Cursors at random lines of random files: the baseline's encode of prefix and suffix, then the
// retrieval of the same request.
Latencies Measure(const std::vector<SourceFile>& corpus, const tune::retrieval::Index& index,
                  const tune::tokenizer::Tokenizer& tok, int requests, int k) {
  std::mt19937_64 rng(42);
  Latencies l;
  for (int i = 0; i < requests; ++i) {
    const SourceFile& f = corpus[std::uniform_int_distribution<size_t>(0, corpus.size() - 1)(rng)];
    size_t cursor = std::uniform_int_distribution<size_t>(0, f.text.size())(rng);
    cursor = f.text.rfind('\n', cursor == 0 ? 0 : cursor - 1);
    cursor = cursor == std::string::npos ? 0 : cursor + 1;
    tune::inference::CompletionRequest r;
    r.kind = tune::inference::PromptKind::kInfill;
    r.input_prefix = f.text.substr(0, cursor);
    r.input_suffix = f.text.substr(cursor);
    r.filename = f.path;
    auto start = std::chrono::steady_clock::now();
    (void)tok.Encode(r.input_prefix);
    (void)tok.Encode(r.input_suffix);
    l.tokenize_ms.push_back(1e3 * SecondsSince(start));
    start = std::chrono::steady_clock::now();
    l.added += tune::inference::AddRetrievedChunks(index, k, r);
    l.retrieval_ms.push_back(1e3 * SecondsSince(start));
  }
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  int files_wanted = 10000, requests = 1000, k = 4;
  fs::path tokenizer_path = fs::path(TUNE_FIXTURES_DIR) / "hf-reference/tokenizers/qwen3/tokenizer.json";
  fs::path dir = "/usr/lib/python3.11", dir2 = "/usr/include";
  if (!tune::bench::ParseFlags(argc, argv, {{"--files", &files_wanted}, {"--requests", &requests}, {"--k", &k},
                                            {"--tokenizer", &tokenizer_path}, {"--dir", &dir}, {"--dir2", &dir2}})) {
    return 2;
  }
  const std::vector<SourceFile> corpus = LoadCorpus({dir, dir2}, files_wanted);
  size_t bytes = 0;
  for (const SourceFile& f : corpus) bytes += f.text.size();
  IndexCost cost;
  absl::StatusOr<tune::retrieval::Index> index = BuildAndLoad(corpus, cost);
  absl::StatusOr<std::unique_ptr<tune::tokenizer::Tokenizer>> tok = tune::tokenizer::Tokenizer::Load(tokenizer_path);
  for (const absl::Status& s : {index.status(), tok.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  const Latencies l = Measure(corpus, *index, **tok, requests, k);
  std::printf("corpus: %zu files, %.1f MB, %zu chunks (dirs %s, %s)\n", corpus.size(), bytes / 1e6,
              index->num_chunks(), dir.c_str(), dir2.c_str());
  std::printf("index: chunking %.2f s + indexing %.2f s (one thread), retrieval.jsonl %.1f MB, load %.2f s\n",
              cost.chunk_s, cost.build_s, cost.bytes / 1e6, cost.load_s);
  const std::string heading = "per request (ms), " + std::to_string(requests) + " requests";
  std::printf("%-34s %8s %8s %8s\n", heading.c_str(), "p50", "p95", "p99");
  std::printf("%-34s %8.3f %8.3f %8.3f   (%.2f chunks added on average, k=%d)\n", "retrieval (AddRetrievedChunks)",
              Percentile(l.retrieval_ms, 0.5), Percentile(l.retrieval_ms, 0.95), Percentile(l.retrieval_ms, 0.99),
              static_cast<double>(l.added) / requests, k);
  std::printf("%-34s %8.3f %8.3f %8.3f\n", "baseline: tokenize prefix+suffix", Percentile(l.tokenize_ms, 0.5),
              Percentile(l.tokenize_ms, 0.95), Percentile(l.tokenize_ms, 0.99));
  std::printf("ratio retrieval / baseline at p95: %.2f\n",
              Percentile(l.retrieval_ms, 0.95) / Percentile(l.tokenize_ms, 0.95));
  return 0;
}
