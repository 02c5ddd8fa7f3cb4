// Q4_K_M export cost: how long quantizing takes compared with just moving the same bytes.
//
//   tune_gguf_bench [--layers N] [--threads T] [--dir D] [--ggml libggml-base.so]
//
// Tensors have Qwen2.5-Coder-1.5B's shapes (n_embd 1536, n_ff 8960, 12 heads, 2 KV heads of
// 128), filled with N(0, 0.02); --layers picks how many of its 28 blocks (default 2, ~94 M
// weights, since the full model is 6 GB of f32). Each tensor gets the type llama.cpp's Q4_K_M
// rules give it and is quantized on T threads (default: all). The baseline writes the same f32
// bytes with core::AtomicFileWriter (fsync included) to D (default $TMPDIR) and reads them
// back. Prints both throughputs and quantize/(write+read) — the factor by which quantization,
// not I/O, bounds a Q4_K_M export. When llama.cpp's libggml-base.so is found (default: the
// node-llama-cpp prebuilt that scripts/install-node-tools.sh installs), the same tensors are
// also quantized by ggml_quantize_chunk and by tune on one thread each, for a per-core
// comparison with llama-quantize's code path.
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/bench_util.h"
#include "core/file.h"
#include "gguf/quant_mix.h"
#include "gguf/quants.h"

namespace {

using Clock = std::chrono::steady_clock;
using tune::gguf::GgmlType;

struct Tensor {
  std::string name;
  std::vector<int64_t> ne;
  std::vector<float> data;
};

std::vector<Tensor> Qwen15BLayers(int layers) {
  constexpr int64_t kEmbd = 1536, kFf = 8960, kKv = 256;
  std::vector<Tensor> out;
  for (int l = 0; l < layers; ++l) {
    auto add = [&](const char* what, std::vector<int64_t> ne) {
      char name[64];
      std::snprintf(name, sizeof(name), "blk.%d.%s", l, what);
      out.push_back({name, std::move(ne), {}});
    };
    add("attn_q.weight", {kEmbd, kEmbd});
    add("attn_k.weight", {kEmbd, kKv});
    add("attn_v.weight", {kEmbd, kKv});
    add("attn_output.weight", {kEmbd, kEmbd});
    add("ffn_gate.weight", {kEmbd, kFf});
    add("ffn_up.weight", {kEmbd, kFf});
    add("ffn_down.weight", {kFf, kEmbd});
  }
  std::mt19937 rng(1);
  for (Tensor& t : out) {
    t.data.resize(static_cast<size_t>(t.ne[0] * t.ne[1]));
    tune::bench::FillNormalWeights(t.data, rng);
  }
  return out;
}

using QuantizeChunkFn = size_t (*)(int type, const float* src, void* dst, int64_t start,
                                   int64_t nrows, int64_t n_per_row, const float* imatrix);

// One-thread seconds for tune and for ggml on the same tensors and types; false without ggml.
bool CompareWithGgml(const std::string& lib, const std::vector<Tensor>& tensors,
                     const std::vector<GgmlType>& types, double* tune_s, double* ggml_s) {
  void* handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return false;
  auto quantize = reinterpret_cast<QuantizeChunkFn>(dlsym(handle, "ggml_quantize_chunk"));
  if (quantize == nullptr) return false;
  const auto tune_start = Clock::now();
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!tune::gguf::QuantizeTensor(types[i], tensors[i].data, tensors[i].ne[0], 1).ok()) {
      return false;
    }
  }
  *tune_s = tune::bench::SecondsSince(tune_start);
  const auto ggml_start = Clock::now();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    std::string out(t.data.size() * sizeof(float), '\0');  // ample for any type
    quantize(static_cast<int>(types[i]), t.data.data(), out.data(), 0, t.ne[1], t.ne[0], nullptr);
  }
  *ggml_s = tune::bench::SecondsSince(ggml_start);
  dlclose(handle);
  return true;
}

int Fail(const absl::Status& st) {
  std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 2;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::filesystem::path dir = std::filesystem::temp_directory_path();
  std::string ggml = TUNE_DEFAULT_GGML_LIB;
  if (!tune::bench::ParseFlags(argc, argv,
                               {{"--layers", &layers},
                                {"--threads", &threads},
                                {"--dir", &dir},
                                {"--ggml", &ggml}})) {
    return 2;
  }
  const std::vector<Tensor> tensors = Qwen15BLayers(layers);
  const tune::gguf::ModelLayout model{28, false};
  double f32_bytes = 0;
  for (const Tensor& t : tensors) f32_bytes += static_cast<double>(t.data.size()) * 4;

  std::map<std::string, int> type_counts;
  std::vector<GgmlType> types;
  for (const Tensor& t : tensors) {
    types.push_back(tune::gguf::TensorTypeFor(tune::gguf::FileType::kQ4_K_M, t.name, t.ne, model));
    ++type_counts[std::string(tune::gguf::GgmlTypeName(types.back()))];
  }
  double quant_bytes = 0;
  const auto quant_start = Clock::now();
  for (size_t i = 0; i < tensors.size(); ++i) {
    absl::StatusOr<std::string> q =
        tune::gguf::QuantizeTensor(types[i], tensors[i].data, tensors[i].ne[0], threads);
    if (!q.ok()) return Fail(q.status());
    quant_bytes += static_cast<double>(q->size());
  }
  const double quant_s = tune::bench::SecondsSince(quant_start);

  const auto path = dir / "tune_gguf_bench.f32";
  const auto io_start = Clock::now();
  {
    absl::StatusOr<tune::core::AtomicFileWriter> out = tune::core::AtomicFileWriter::Open(path);
    if (!out.ok()) return Fail(out.status());
    for (const Tensor& t : tensors) {
      absl::Status st = out->Append(std::string_view(reinterpret_cast<const char*>(t.data.data()),
                                                     t.data.size() * sizeof(float)));
      if (!st.ok()) return Fail(st);
    }
    if (absl::Status st = out->Commit(); !st.ok()) return Fail(st);
  }
  absl::StatusOr<std::string> back = tune::core::ReadFile(path);
  if (!back.ok()) return Fail(back.status());
  const double io_s = tune::bench::SecondsSince(io_start);
  std::filesystem::remove(path);

  std::printf("tensors: %zu (%d of 28 Qwen2.5-Coder-1.5B blocks), %.1f MB f32 -> %.1f MB Q4_K_M",
              tensors.size(), layers, f32_bytes / 1e6, quant_bytes / 1e6);
  for (const auto& [name, count] : type_counts) std::printf(" %s:%d", name.c_str(), count);
  std::printf("\nquantize Q4_K_M, %d threads: %8.3f s  %8.1f MB/s of f32\n", threads, quant_s,
              f32_bytes / 1e6 / quant_s);
  std::printf("write+read f32 (baseline): %8.3f s  %8.1f MB/s\n", io_s, f32_bytes / 1e6 / io_s);
  std::printf("ratio quantize / (write+read): %.2fx\n", quant_s / io_s);
  double tune_1t = 0, ggml_1t = 0;
  if (CompareWithGgml(ggml, tensors, types, &tune_1t, &ggml_1t)) {
    std::printf("one thread: tune %.3f s, ggml_quantize_chunk %.3f s, ratio tune/ggml %.2fx\n",
                tune_1t, ggml_1t, tune_1t / ggml_1t);
  } else {
    std::printf("one thread vs ggml: skipped, cannot load %s (scripts/install-node-tools.sh)\n",
                ggml.c_str());
  }
  return 0;
}
