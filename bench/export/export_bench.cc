// `tune export` cost for a 1.5B model: seconds to export a Qwen2.5-Coder-1.5B-shaped
// checkpoint to Q4_K_M, against the seconds to read the checkpoint and write a file of the
// GGUF's size (the I/O floor of any exporter).
//
//   tune_export_bench [--layers N] [--threads T] [--dir D]
//
// The checkpoint has Qwen2.5-Coder-1.5B's config (n_embd 1536, n_ff 8960, 12 heads, 2 KV
// heads, vocab 151936, tied embeddings), --layers of its 28 blocks (default all 28: 1.54 B
// weights, 3.1 GB of bf16), weights uniform in +-0.035 (std 0.02) from a fixed LCG, and Qwen3's
// tokenizer.json from the fixtures. Both runs read the checkpoint from the page cache (it was
// just written); the baseline's write is fsync'ed like the export's.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/common/bench_util.h"
#include "core/file.h"
#include "export/gguf_export.h"
#include "formats/dtype.h"
#include "formats/safetensors.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void Check(const absl::Status& st) {
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(st.message()).c_str());
    std::exit(1);
  }
}

// Writes dir/{config.json, model.safetensors, tokenizer.json, tokenizer_config.json}.
void WriteCheckpoint(const fs::path& dir, int layers) {
  constexpr int64_t kEmbd = 1536, kFf = 8960, kKv = 256, kVocab = 151936;
  fs::create_directories(dir);
  Check(tune::core::WriteFileAtomic(
      dir / "config.json",
      "{\"model_type\": \"qwen2\", \"hidden_size\": 1536, \"intermediate_size\": 8960, "
      "\"num_hidden_layers\": " +
          std::to_string(layers) +
          ", \"num_attention_heads\": 12, \"num_key_value_heads\": 2, \"vocab_size\": 151936, "
          "\"max_position_embeddings\": 32768, \"rms_norm_eps\": 1e-06, \"rope_theta\": "
          "1000000.0, \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\"}\n"));
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"}) {
    fs::copy_file(fs::path(TUNE_QWEN3_TOKENIZER) / name, dir / name,
                  fs::copy_options::overwrite_existing);
  }
  struct Spec {
    std::string name;
    std::vector<int64_t> shape;
  };
  std::vector<Spec> specs = {{"model.embed_tokens.weight", {kVocab, kEmbd}},
                             {"model.norm.weight", {kEmbd}}};
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (Spec s : std::vector<Spec>{{"self_attn.q_proj.weight", {kEmbd, kEmbd}},
                                    {"self_attn.q_proj.bias", {kEmbd}},
                                    {"self_attn.k_proj.weight", {kKv, kEmbd}},
                                    {"self_attn.k_proj.bias", {kKv}},
                                    {"self_attn.v_proj.weight", {kKv, kEmbd}},
                                    {"self_attn.v_proj.bias", {kKv}},
                                    {"self_attn.o_proj.weight", {kEmbd, kEmbd}},
                                    {"mlp.gate_proj.weight", {kFf, kEmbd}},
                                    {"mlp.up_proj.weight", {kFf, kEmbd}},
                                    {"mlp.down_proj.weight", {kEmbd, kFf}},
                                    {"input_layernorm.weight", {kEmbd}},
                                    {"post_attention_layernorm.weight", {kEmbd}}}) {
      specs.push_back({p + s.name, s.shape});
    }
  }
  std::vector<std::vector<uint16_t>> data(specs.size());
  tune::formats::SafetensorsWriter writer;
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < specs.size(); ++i) {
    int64_t n = 1;
    for (int64_t d : specs[i].shape) n *= d;
    data[i].resize(n);
    for (uint16_t& x : data[i]) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const float u = static_cast<float>(state >> 40) / static_cast<float>(1 << 24);  // [0, 1)
      x = tune::formats::F32ToBf16(0.0346f * (2 * u - 1));
    }
    Check(writer.Add(specs[i].name, tune::formats::DType::kBF16, specs[i].shape,
                     {reinterpret_cast<const char*>(data[i].data()), data[i].size() * 2}));
  }
  Check(writer.Write(dir / "model.safetensors"));
}

}  // namespace

int main(int argc, char** argv) {
  int layers = 28, threads = 0;
  fs::path dir = fs::temp_directory_path();
  if (!tune::bench::ParseFlags(argc, argv,
                               {{"--layers", &layers}, {"--threads", &threads}, {"--dir", &dir}})) {
    return 2;
  }
  const fs::path model = dir / "tune-export-bench-model";
  const fs::path out = dir / "tune-export-bench.gguf";
  const fs::path copy = dir / "tune-export-bench.copy";
  Clock::time_point t = Clock::now();
  WriteCheckpoint(model, layers);
  std::printf("checkpoint: %d layers, %.2f GB bf16, written in %.1f s\n", layers,
              fs::file_size(model / "model.safetensors") / 1e9, tune::bench::SecondsSince(t));

  tune::exporter::ExportOptions options;
  options.base = model;
  options.quant = "Q4_K_M";
  options.out = out;
  options.threads = threads;
  t = Clock::now();
  absl::StatusOr<tune::exporter::ExportReport> report = tune::exporter::RunExport(options);
  Check(report.status());
  const double export_s = tune::bench::SecondsSince(t);

  // Baseline: read the checkpoint, write a file of the GGUF's size (fsync'ed, atomic).
  t = Clock::now();
  absl::StatusOr<std::string> bytes = tune::core::ReadFile(model / "model.safetensors");
  Check(bytes.status());
  bytes->resize(report->bytes);
  absl::StatusOr<tune::core::AtomicFileWriter> w = tune::core::AtomicFileWriter::Open(copy);
  Check(w.status());
  Check(w->Append(*bytes));
  Check(w->Commit());
  const double io_s = tune::bench::SecondsSince(t);

  std::printf("export Q4_K_M: %.1f s -> %.2f GB (%lld tensors)\n", export_s, report->bytes / 1e9,
              static_cast<long long>(report->tensors));
  std::printf("read + write the same bytes: %.1f s\n", io_s);
  std::printf("export / (read + write): %.1fx\n", export_s / io_s);
  fs::remove_all(model);
  fs::remove(out);
  fs::remove(copy);
  fs::remove(dir / "Modelfile");
  return 0;
}
