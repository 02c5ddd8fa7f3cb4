// Writes the random-weight Hugging Face checkpoint that bench/serve exports to GGUF and serves:
// a Qwen2.5-Coder-0.5B (default) or -1.5B shaped model with bf16 N(0, 0.02) weights and Qwen3's
// tokenizer (the same vocabulary and FIM tokens as Qwen2.5-Coder).
//
//   serve_bench_checkpoint --out DIR [--shape 0.5b|1.5b] [--layers N] [--seed S]
//
// --layers cuts the block count (default: the shape's own, 24 or 28) for quick runs. The weights
// are random, so what the model writes is noise; the serving benchmark only needs its cost.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/common/bench_util.h"
#include "core/file.h"
#include "formats/dtype.h"
#include "formats/safetensors.h"

namespace {

namespace fs = std::filesystem;

void Check(const absl::Status& st) {
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(st.message()).c_str());
    std::exit(1);
  }
}

struct Shape {
  int64_t embd, ff, heads, kv_heads, layers;
};

// The shape's config.json and Qwen3's tokenizer files.
void WriteConfig(const fs::path& out, const Shape& shape) {
  fs::create_directories(out);
  Check(tune::core::WriteFileAtomic(
      out / "config.json",
      "{\"architectures\": [\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\", \"hidden_size\": " +
          std::to_string(shape.embd) + ", \"intermediate_size\": " + std::to_string(shape.ff) +
          ", \"num_hidden_layers\": " + std::to_string(shape.layers) +
          ", \"num_attention_heads\": " + std::to_string(shape.heads) +
          ", \"num_key_value_heads\": " + std::to_string(shape.kv_heads) +
          ", \"vocab_size\": 151936, \"max_position_embeddings\": 32768, \"rms_norm_eps\": "
          "1e-06, \"rope_theta\": 1000000.0, \"tie_word_embeddings\": true, \"hidden_act\": "
          "\"silu\", \"bos_token_id\": 151643, \"eos_token_id\": 151643, \"torch_dtype\": "
          "\"bfloat16\"}\n"));
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"}) {
    fs::copy_file(fs::path(TUNE_QWEN3_TOKENIZER) / name, out / name, fs::copy_options::overwrite_existing);
  }
}

struct Spec {
  std::string name;
  std::vector<int64_t> shape;
  bool norm = false;  // RMSNorm gains are 1, not noise
};

// Every tensor of a Qwen2 model of `shape`, by its Hugging Face name.
std::vector<Spec> TensorSpecs(const Shape& shape) {
  constexpr int64_t kVocab = 151936;
  const int64_t kv = shape.embd / shape.heads * shape.kv_heads;
  std::vector<Spec> specs = {{"model.embed_tokens.weight", {kVocab, shape.embd}},
                             {"model.norm.weight", {shape.embd}, true}};
  for (int64_t l = 0; l < shape.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const Spec& s : std::vector<Spec>{{"self_attn.q_proj.weight", {shape.embd, shape.embd}},
                                           {"self_attn.q_proj.bias", {shape.embd}},
                                           {"self_attn.k_proj.weight", {kv, shape.embd}},
                                           {"self_attn.k_proj.bias", {kv}},
                                           {"self_attn.v_proj.weight", {kv, shape.embd}},
                                           {"self_attn.v_proj.bias", {kv}},
                                           {"self_attn.o_proj.weight", {shape.embd, shape.embd}},
                                           {"mlp.gate_proj.weight", {shape.ff, shape.embd}},
                                           {"mlp.up_proj.weight", {shape.ff, shape.embd}},
                                           {"mlp.down_proj.weight", {shape.embd, shape.ff}},
                                           {"input_layernorm.weight", {shape.embd}, true},
                                           {"post_attention_layernorm.weight", {shape.embd}, true}}) {
      specs.push_back({p + s.name, s.shape, s.norm});
    }
  }
  return specs;
}

// model.safetensors with bf16 N(0, 0.02) weights (gains 1); returns the number of weights.
int64_t WriteWeights(const fs::path& out, const std::vector<Spec>& specs, int seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::vector<std::vector<uint16_t>> data(specs.size());
  std::vector<float> values;
  tune::formats::SafetensorsWriter writer;
  int64_t total = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    int64_t n = 1;
    for (int64_t d : specs[i].shape) n *= d;
    total += n;
    values.assign(static_cast<size_t>(n), 1.0f);
    if (!specs[i].norm) tune::bench::FillNormalWeights(values, rng);
    data[i].resize(values.size());
    for (size_t j = 0; j < values.size(); ++j) data[i][j] = tune::formats::F32ToBf16(values[j]);
    Check(writer.Add(specs[i].name, tune::formats::DType::kBF16, specs[i].shape,
                     {reinterpret_cast<const char*>(data[i].data()), data[i].size() * 2}));
  }
  Check(writer.Write(out / "model.safetensors"));
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path out;
  std::string shape_name = "0.5b";
  int layers = 0, seed = 1;
  if (!tune::bench::ParseFlags(argc, argv,
                               {{"--out", &out},
                                {"--shape", &shape_name},
                                {"--layers", &layers},
                                {"--seed", &seed}}) ||
      out.empty()) {
    std::fprintf(stderr, "serve_bench_checkpoint: --out DIR is required\n");
    return 2;
  }
  Shape shape;
  if (shape_name == "0.5b") {
    shape = {896, 4864, 14, 2, 24};
  } else if (shape_name == "1.5b") {
    shape = {1536, 8960, 12, 2, 28};
  } else {
    std::fprintf(stderr, "serve_bench_checkpoint: --shape is 0.5b or 1.5b\n");
    return 2;
  }
  if (layers > 0) shape.layers = layers;
  const auto start = std::chrono::steady_clock::now();
  WriteConfig(out, shape);
  const int64_t total = WriteWeights(out, TensorSpecs(shape), seed);
  std::printf("checkpoint: %s shape, %lld layers, %.2f B weights, written in %.1f s to %s\n",
              shape_name.c_str(), static_cast<long long>(shape.layers), total / 1e9,
              tune::bench::SecondsSince(start), out.string().c_str());
  return 0;
}
