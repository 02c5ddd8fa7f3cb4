#include "doctor/memory_plan.h"

namespace tune::doctor {
namespace {

constexpr double kGb = 1024.0 * 1024.0 * 1024.0;
constexpr double kNf4BytesPerParam = 0.5 + 1.0 / 64 + 4.0 / (64 * 256);  // codes, u8 scales, f32 nested scales
constexpr double kRuntimeGb = 0.75;

ModelShape Qwen(std::string size, int64_t layers, int64_t hidden, int64_t inter, int64_t heads, int64_t kv,
                int64_t vocab, bool tied, double params_b) {
  ModelShape s;
  s.name = "Qwen2.5-Coder-" + size;
  s.hf_id = "Qwen/Qwen2.5-Coder-" + size;
  s.layers = layers;
  s.hidden = hidden;
  s.intermediate = inter;
  s.heads = heads;
  s.kv_heads = kv;
  s.vocab = vocab;
  s.tied_embeddings = tied;
  s.params_b = params_b;
  return s;
}

// Per layer: the seven projections' (in, out).
struct Projection {
  int64_t in, out;
};
std::vector<Projection> LayerProjections(const ModelShape& m) {
  const int64_t kv = m.kv_heads * (m.hidden / m.heads);
  return {{m.hidden, m.hidden}, {m.hidden, kv}, {m.hidden, kv}, {m.hidden, m.hidden},
          {m.hidden, m.intermediate}, {m.hidden, m.intermediate}, {m.intermediate, m.hidden}};
}

double ProjectionParams(const ModelShape& m) {
  double per_layer = 0;
  for (const Projection& p : LayerProjections(m)) per_layer += static_cast<double>(p.in) * static_cast<double>(p.out);
  return per_layer * static_cast<double>(m.layers);
}

double EmbeddingParams(const ModelShape& m) {
  return static_cast<double>(m.vocab) * static_cast<double>(m.hidden) * (m.tied_embeddings ? 1 : 2);
}

}  // namespace

const std::vector<ModelShape>& QwenCoderShapes() {
  static const std::vector<ModelShape> kShapes = {
      Qwen("0.5B", 24, 896, 4864, 14, 2, 151936, true, 0.49),
      Qwen("1.5B", 28, 1536, 8960, 12, 2, 151936, true, 1.54),
      Qwen("3B", 36, 2048, 11008, 16, 2, 151936, true, 3.09),
      Qwen("7B", 28, 3584, 18944, 28, 4, 152064, false, 7.62),
      Qwen("14B", 48, 5120, 13824, 40, 8, 152064, false, 14.7),
      Qwen("32B", 64, 5120, 27648, 40, 8, 152064, false, 32.5),
  };
  return kShapes;
}

MemoryEstimate EstimateQLoRA(const ModelShape& m, const TrainShape& t) {
  MemoryEstimate e;
  e.weights_gb = (ProjectionParams(m) * kNf4BytesPerParam + EmbeddingParams(m) * 2) / kGb;
  double lora = 0;
  for (const Projection& p : LayerProjections(m)) lora += static_cast<double>(t.rank * (p.in + p.out));
  e.adapters_gb = lora * static_cast<double>(m.layers) * 16 / kGb;
  const double tokens = static_cast<double>(t.batch * t.seq_len);
  const double kept = tokens * static_cast<double>(m.hidden) * 2 * static_cast<double>(m.layers);
  // One layer recomputed in backward: q/k/v/o and MLP activations and their gradients, bf16.
  const double layer = tokens * static_cast<double>(6 * m.hidden + 3 * m.intermediate) * 2 * 2;
  e.activations_gb = (kept + layer) / kGb;
  e.loss_gb = static_cast<double>(t.loss_chunk) * static_cast<double>(m.vocab) * 4 * 2 / kGb;
  e.runtime_gb = kRuntimeGb + 0.10 * (e.weights_gb + e.adapters_gb + e.activations_gb + e.loss_gb);
  return e;
}

double ServedSizeGb(const ModelShape& m, const std::string& quant) {
  const double bits = quant == "Q8_0" ? 8.5 : quant == "Q4_K_M" ? 4.9 : quant == "F16" ? 16 : 32;
  return (ProjectionParams(m) + EmbeddingParams(m)) * bits / 8 / kGb;
}

std::optional<Recommendation> Recommend(double free_gb) {
  const std::vector<ModelShape>& shapes = QwenCoderShapes();
  for (auto model = shapes.rbegin(); model != shapes.rend(); ++model) {
    for (int64_t seq : {4096, 2048, 1024}) {
      for (int64_t rank : {16, 8}) {
        TrainShape t;
        t.seq_len = seq;
        t.rank = rank;
        MemoryEstimate e = EstimateQLoRA(*model, t);
        if (e.total_gb() > free_gb) continue;
        Recommendation r{*model, t, e, ""};
        // Serve at Q8_0 (near-lossless) when its file takes at most half the card, leaving room
        // for the KV cache and the editor's other work; else Q4_K_M.
        r.quant = ServedSizeGb(*model, "Q8_0") <= 0.5 * free_gb ? "Q8_0" : "Q4_K_M";
        return r;
      }
    }
  }
  return std::nullopt;
}

}  // namespace tune::doctor
