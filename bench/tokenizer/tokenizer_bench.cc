// Encode throughput of tune's tokenizers, one thread, on a few MB of real source code, with
// libsentencepiece as the baseline on the same text in the same run.
//
//   tune_tokenizer_bench [--mb N] [--fixtures DIR] [--only qwen3|llama2|spm] [SOURCE_DIR ...]
//
// The corpus is the first N MB (default 4) of the *.py, *.h, *.c, *.cc files under the source
// directories (default: /usr/lib/python3.11 and /usr/include/c++/12), in sorted path order,
// encoded file by file as ingest does. The SentencePiece rows compare with libsentencepiece on the
// fixture's 512-piece model and on an 8,000-piece BPE model trained on the corpus's first 2 MB,
// and the program fails if any id differs. Each measurement is the best of 3 runs, in thread CPU
// time, so that other processes on a shared machine disturb it less.
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/internal/sentencepiece_bridge.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using tune::tokenizer::Tokenizer;

namespace {

std::vector<std::string> LoadCorpus(const std::vector<fs::path>& dirs, size_t max_bytes) {
  std::vector<fs::path> files;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::end(it);
         it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      if (it->is_regular_file(ec) && (ext == ".py" || ext == ".h" || ext == ".c" || ext == ".cc" ||
                                      ext == ".tcc")) {
        files.push_back(it->path());
      }
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> corpus;
  size_t total = 0;
  for (const fs::path& f : files) {
    if (total >= max_bytes) break;
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    corpus.push_back(ss.str());
    total += corpus.back().size();
  }
  return corpus;
}

double ThreadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

// Best-of-3 throughput in MB/s of encoding every document; `tokens` gets the token count.
double Measure(const std::vector<std::string>& corpus,
               const std::function<size_t(const std::string&)>& encode, size_t& tokens) {
  size_t bytes = 0;
  for (const std::string& d : corpus) bytes += d.size();
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    tokens = 0;
    const double start = ThreadSeconds();
    for (const std::string& d : corpus) tokens += encode(d);
    best = std::min(best, ThreadSeconds() - start);
  }
  return bytes / 1e6 / best;
}

std::unique_ptr<Tokenizer> MustLoad(const fs::path& path) {
  auto tok = Tokenizer::Load(path);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(tok);
}

}  // namespace

int main(int argc, char** argv) {
  fs::path fixtures = TUNE_FIXTURES_DIR;
  double mb = 4;
  std::vector<fs::path> dirs;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--mb") && i + 1 < argc) {
      mb = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) {
      only = argv[++i];
    } else if (!std::strcmp(argv[i], "--fixtures") && i + 1 < argc) {
      fixtures = argv[++i];
    } else {
      dirs.emplace_back(argv[i]);
    }
  }
  if (dirs.empty()) dirs = {"/usr/lib/python3.11", "/usr/include/c++/12"};
  const std::vector<std::string> corpus = LoadCorpus(dirs, static_cast<size_t>(mb * 1e6));
  size_t bytes = 0;
  for (const std::string& d : corpus) bytes += d.size();
  std::printf("corpus: %zu files, %.2f MB of source\n\n", corpus.size(), bytes / 1e6);
  std::printf("%-40s %10s %12s %14s %8s\n", "tokenizer", "tokens", "tune MB/s",
              "baseline MB/s", "ratio");

  for (const std::string name : {"qwen3", "llama2"}) {
    if (!only.empty() && only != name) continue;
    auto tok = MustLoad(fixtures / "tokenizers" / name / "tokenizer.json");
    size_t tokens = 0;
    const double speed =
        Measure(corpus, [&](const std::string& d) { return tok->Encode(d).size(); }, tokens);
    std::printf("%-40s %10zu %12.1f %14s %8s\n",
                (name + "/tokenizer.json").c_str(), tokens, speed, "-", "-");
  }

  if (!only.empty() && only != "spm") return 0;
  // SentencePiece: tune vs libsentencepiece on the same text, with the fixture's 512-piece
  // tokenizer.model and an 8,000-piece BPE model trained here on the corpus's first 2 MB.
  const fs::path trained = fs::temp_directory_path() / "tune_tokenizer_bench_spm8k";
  {
    std::string text;
    for (const std::string& d : corpus) {
      if (text.size() > 2'000'000) break;
      text += d;
    }
    std::ofstream(trained.string() + ".txt", std::ios::binary) << text;
  }
  const std::string error = tune::tokenizer::spm_bridge::Train(
      "--input=" + trained.string() + ".txt --model_prefix=" + trained.string() +
      " --model_type=bpe --vocab_size=8000 --byte_fallback=true --character_coverage=1.0"
      " --normalization_rule_name=identity --remove_extra_whitespaces=false"
      " --max_sentence_length=100000 --num_threads=1 --minloglevel=2");
  if (!error.empty()) {
    std::fprintf(stderr, "training the 8k model failed: %s\n", error.c_str());
    return 1;
  }
  size_t mismatches = 0;
  for (const auto& [label, model] :
       {std::pair<std::string, fs::path>{"tiny-llama/tokenizer.model (512 pieces)",
                                         fixtures / "tiny-llama" / "tokenizer.model"},
        {"trained BPE tokenizer.model (8000 pieces)", trained.string() + ".model"}}) {
    auto tok = MustLoad(model);
    std::string load_error;
    auto spm = tune::tokenizer::spm_bridge::Processor::Load(model.string(), load_error);
    if (!spm) {
      std::fprintf(stderr, "%s\n", load_error.c_str());
      return 1;
    }
    for (const std::string& d : corpus) mismatches += tok->Encode(d) != spm->Encode(d);
    size_t tokens = 0, spm_tokens = 0;
    const double speed =
        Measure(corpus, [&](const std::string& d) { return tok->Encode(d).size(); }, tokens);
    const double spm_speed =
        Measure(corpus, [&](const std::string& d) { return spm->Encode(d).size(); }, spm_tokens);
    std::printf("%-40s %10zu %12.1f %14.1f %7.2fx\n", label.c_str(), tokens, speed, spm_speed,
                speed / spm_speed);
  }
  for (const char* ext : {".txt", ".model", ".vocab"}) fs::remove(trained.string() + ext);
  std::printf("\nfiles whose ids differ from libsentencepiece: %zu\n", mismatches);
  return mismatches == 0 ? 0 : 1;
}
