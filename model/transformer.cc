#include "model/transformer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <mutex>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "formats/safetensors.h"
#include "model/tensor_io.h"

namespace tune::model {
namespace {

// Rotary frequencies as transformers computes them, in f32, with the checkpoint's scaling.
at::Tensor RotaryInvFreq(const ModelConfig& c) {
  at::Tensor exponents = at::arange(0, c.head_dim, 2, at::kLong).to(at::kFloat) /
                         static_cast<float>(c.head_dim);
  at::Tensor inv_freq = 1.0 / at::pow(c.rope.theta, exponents);
  switch (c.rope.scaling) {
    case RopeScaling::kNone:
      break;
    case RopeScaling::kLinear:
      inv_freq = inv_freq / c.rope.factor;
      break;
    case RopeScaling::kLlama3: {
      // Long wavelengths are slowed down by `factor`, short ones kept, the band between
      // interpolated (Llama 3.1's _compute_llama3_parameters).
      const double old_len = static_cast<double>(c.rope.original_max_position_embeddings);
      const double low_wavelen = old_len / c.rope.low_freq_factor;
      const double high_wavelen = old_len / c.rope.high_freq_factor;
      at::Tensor wavelen = 2 * M_PI / inv_freq;
      at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / c.rope.factor, inv_freq);
      at::Tensor smooth = (old_len / wavelen - c.rope.low_freq_factor) /
                          (c.rope.high_freq_factor - c.rope.low_freq_factor);
      at::Tensor smoothed = (1 - smooth) * scaled / c.rope.factor + smooth * scaled;
      at::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
      inv_freq = at::where(medium, smoothed, scaled);
      break;
    }
  }
  return inv_freq;
}

// x: (B, T, heads, head_dim); cos, sin: (B or 1, T, head_dim). Rotates the two halves of each
// head (the "rotate_half" layout of HF checkpoints, not llama.cpp's interleaved one).
at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor x1 = x.narrow(-1, 0, half);
  at::Tensor x2 = x.narrow(-1, half, half);
  at::Tensor rotated = at::cat({-x2, x1}, -1);
  at::Tensor c = cos.unsqueeze(2).to(x.scalar_type());
  at::Tensor s = sin.unsqueeze(2).to(x.scalar_type());
  return x * c + rotated * s;
}

// Recomputes one layer in backward instead of storing its activations (LibTorch's C++ API
// has no torch.utils.checkpoint). Inputs: x and the layer's trainable tensors; the model is
// reached through saved_data, which is why it must outlive backward().
struct CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& masked,
                            at::TensorList trainable, const Transformer* model, int64_t index) {
    ctx->saved_data["model"] = reinterpret_cast<int64_t>(model);
    ctx->saved_data["index"] = index;
    std::vector<at::Tensor> saved = {x, cos, sin, masked};
    saved.insert(saved.end(), trainable.begin(), trainable.end());
    ctx->save_for_backward(saved);
    // LoRA dropout draws random masks: the recomputation must draw the same ones.
    at::Generator gen = at::globalContext().defaultGenerator(x.device());
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      ctx->saved_data["rng"] = gen.get_state();
    }
    c10::NoGradGuard no_grad;
    return model->Block(index, x, cos, sin, masked, nullptr);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    auto* model = reinterpret_cast<const Transformer*>(ctx->saved_data["model"].toInt());
    const int64_t index = ctx->saved_data["index"].toInt();
    torch::autograd::variable_list saved = ctx->get_saved_variables();
    at::Tensor x = saved[0].detach().requires_grad_(true);
    std::vector<at::Tensor> inputs = {x};
    for (size_t i = 4; i < saved.size(); ++i) inputs.push_back(saved[i]);
    at::Tensor y;
    {
      at::Generator gen = at::globalContext().defaultGenerator(x.device());
      at::Tensor rng_now;
      {
        std::lock_guard<std::mutex> lock(gen.mutex());
        rng_now = gen.get_state();
        gen.set_state(ctx->saved_data["rng"].toTensor());
      }
      at::AutoGradMode grad_mode(true);
      y = model->Block(index, x, saved[1], saved[2], saved[3], nullptr);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(rng_now);
    }
    torch::autograd::variable_list grads = torch::autograd::grad({y}, inputs, {grad_out[0]},
                                                                 /*retain_graph=*/false,
                                                                 /*create_graph=*/false,
                                                                 /*allow_unused=*/true);
    // One gradient per forward input: x, cos, sin, masked, the trainable list, model, index.
    torch::autograd::variable_list out = {grads[0], at::Tensor(), at::Tensor(), at::Tensor()};
    out.insert(out.end(), grads.begin() + 1, grads.end());
    out.push_back(at::Tensor());
    out.push_back(at::Tensor());
    return out;
  }
};

at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor h = x.to(at::kFloat);
  h = h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * h.to(x.scalar_type());
}

// The Hugging Face names of one layer's tensors, per architecture.
struct LayerNames {
  std::string attn_norm, mlp_norm, q_norm, k_norm, q, k, v, o, gate, up, down;
};

LayerNames NamesOf(const ModelConfig& c, int64_t i) {
  std::string p = absl::StrFormat("model.layers.%d.", i);
  LayerNames n;
  n.attn_norm = p + "input_layernorm";
  n.mlp_norm = p + "post_attention_layernorm";
  n.q_norm = p + "self_attn.q_norm";
  n.k_norm = p + "self_attn.k_norm";
  n.q = p + "self_attn.q_proj";
  n.k = p + "self_attn.k_proj";
  n.v = p + "self_attn.v_proj";
  n.o = p + "self_attn.o_proj";
  if (c.uses_gated_mlp()) {
    n.gate = p + "mlp.gate_proj";
    n.up = p + "mlp.up_proj";
    n.down = p + "mlp.down_proj";
  } else {
    n.up = p + "mlp.c_fc";
    n.down = p + "mlp.c_proj";
  }
  return n;
}

// Reads tensors out of the mapped checkpoint, one at a time, into options.dtype (or NF4) on
// options.device.
class WeightLoader {
 public:
  WeightLoader(const formats::SafetensorsCheckpoint& ckpt, const Transformer::LoadOptions& options)
      : ckpt_(ckpt), options_(options) {}

  absl::StatusOr<Linear> LoadLinear(const std::string& name, int64_t out, int64_t in,
                                    bool bias) const {
    Linear l;
    l.out_features = out;
    l.in_features = in;
    if (options_.quantize_nf4) {
      TUNE_ASSIGN_OR_RETURN(at::Tensor w, LoadTensor(ckpt_, name + ".weight", {out, in}, at::kFloat));
      nf4::Nf4Weights q;
      nf4::Quantize(w.data_ptr<float>(), w.numel(), &q);
      l.nf4 = Nf4Weight::Place(std::move(q), out, in, options_.device);
    } else {
      TUNE_ASSIGN_OR_RETURN(l.weight, Load(name + ".weight", {out, in}));
    }
    if (bias) {
      TUNE_ASSIGN_OR_RETURN(l.bias, Load(name + ".bias", {out}));
    }
    return l;
  }
  absl::StatusOr<Norm> LoadNorm(const std::string& name, int64_t dim, bool bias) const {
    Norm n;
    TUNE_ASSIGN_OR_RETURN(n.weight, Load(name + ".weight", {dim}));
    if (bias) {
      TUNE_ASSIGN_OR_RETURN(n.bias, Load(name + ".bias", {dim}));
    }
    return n;
  }
  absl::StatusOr<at::Tensor> Load(const std::string& name, std::vector<int64_t> shape) const {
    TUNE_ASSIGN_OR_RETURN(at::Tensor t, LoadTensor(ckpt_, name, shape, options_.dtype));
    return t.to(options_.device);
  }

 private:
  const formats::SafetensorsCheckpoint& ckpt_;
  const Transformer::LoadOptions& options_;
};

}  // namespace

KvCache::KvCache(const ModelConfig& config, int64_t batch, int64_t max_tokens,
                 const at::TensorOptions& options)
    : capacity_(max_tokens) {
  for (int64_t i = 0; i < config.num_layers; ++i) {
    k_.push_back(at::zeros({batch, config.num_kv_heads, max_tokens, config.head_dim}, options));
    v_.push_back(at::zeros({batch, config.num_kv_heads, max_tokens, config.head_dim}, options));
  }
}

absl::StatusOr<Transformer> Transformer::Load(const std::filesystem::path& dir,
                                              const LoadOptions& options) {
  Transformer t;
  TUNE_ASSIGN_OR_RETURN(t.config_, LoadModelConfig(dir));
  TUNE_ASSIGN_OR_RETURN(formats::SafetensorsCheckpoint ckpt, formats::SafetensorsCheckpoint::Open(dir));
  const ModelConfig& c = t.config_;
  WeightLoader w(ckpt, options);
  const int64_t q_dim = c.num_heads * c.head_dim;
  const int64_t kv_dim = c.num_kv_heads * c.head_dim;
  const bool ln_bias = c.uses_layer_norm();
  TUNE_ASSIGN_OR_RETURN(t.embed_, w.Load("model.embed_tokens.weight", {c.vocab_size, c.hidden_size}));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    LayerNames n = NamesOf(c, i);
    Layer l;
    TUNE_ASSIGN_OR_RETURN(l.attn_norm, w.LoadNorm(n.attn_norm, c.hidden_size, ln_bias));
    TUNE_ASSIGN_OR_RETURN(l.mlp_norm, w.LoadNorm(n.mlp_norm, c.hidden_size, ln_bias));
    if (c.uses_qk_norm()) {
      TUNE_ASSIGN_OR_RETURN(l.q_norm, w.LoadNorm(n.q_norm, c.head_dim, false));
      TUNE_ASSIGN_OR_RETURN(l.k_norm, w.LoadNorm(n.k_norm, c.head_dim, false));
    }
    TUNE_ASSIGN_OR_RETURN(l.q, w.LoadLinear(n.q, q_dim, c.hidden_size, c.attention_bias));
    TUNE_ASSIGN_OR_RETURN(l.k, w.LoadLinear(n.k, kv_dim, c.hidden_size, c.attention_bias));
    TUNE_ASSIGN_OR_RETURN(l.v, w.LoadLinear(n.v, kv_dim, c.hidden_size, c.attention_bias));
    TUNE_ASSIGN_OR_RETURN(l.o, w.LoadLinear(n.o, c.hidden_size, q_dim, c.attention_out_bias));
    if (c.uses_gated_mlp()) {
      TUNE_ASSIGN_OR_RETURN(l.gate, w.LoadLinear(n.gate, c.intermediate_size, c.hidden_size, c.mlp_bias));
    }
    TUNE_ASSIGN_OR_RETURN(l.up, w.LoadLinear(n.up, c.intermediate_size, c.hidden_size, c.mlp_bias));
    TUNE_ASSIGN_OR_RETURN(l.down, w.LoadLinear(n.down, c.hidden_size, c.intermediate_size, c.mlp_bias));
    t.layers_.push_back(std::move(l));
  }
  TUNE_ASSIGN_OR_RETURN(t.final_norm_, w.LoadNorm("model.norm", c.hidden_size, ln_bias));
  if (c.tie_word_embeddings) {
    t.lm_head_ = t.embed_;
  } else {
    TUNE_ASSIGN_OR_RETURN(t.lm_head_, w.Load("lm_head.weight", {c.vocab_size, c.hidden_size}));
  }
  t.inv_freq_ = RotaryInvFreq(c).to(options.device);
  return t;
}

at::Tensor DenseWeight(const Linear& linear, at::ScalarType dtype) {
  if (linear.weight.defined()) return linear.weight.to(dtype);
  // The dequantized copy is transient: autograd keeps it only until backward of this layer,
  // and with checkpointing not even that.
  return linear.nf4->Dequantize(dtype);
}

at::Tensor ApplyLinear(const Linear& linear, const at::Tensor& x, bool training) {
  at::Tensor y = at::linear(x, linear.weight.defined() ? linear.weight : DenseWeight(linear, x.scalar_type()),
                            linear.bias);
  if (linear.lora_a.defined()) {
    at::Tensor lora_in = x;
    if (training && linear.lora_dropout > 0) lora_in = at::dropout(x, linear.lora_dropout, true);
    // Adapters may be kept in f32 under a bf16 base (QLoRA): compute the update in theirs.
    at::Tensor update = at::linear(at::linear(lora_in.to(linear.lora_a.scalar_type()), linear.lora_a), linear.lora_b);
    y = y + linear.lora_scale * update.to(y.scalar_type());
  }
  return y;
}

at::Tensor Transformer::Project(const Linear& linear, const at::Tensor& x) const {
  return ApplyLinear(linear, x, training_);
}

at::Tensor Transformer::ApplyNorm(const Norm& norm, const at::Tensor& x) const {
  if (config_.uses_layer_norm()) {
    return at::layer_norm(x, {x.size(-1)}, norm.weight, norm.bias, config_.norm_eps);
  }
  return RmsNorm(x, norm.weight, config_.norm_eps);
}

at::Tensor Transformer::Attention(const Layer& layer, int64_t index, const at::Tensor& x,
                                  const at::Tensor& cos, const at::Tensor& sin,
                                  const at::Tensor& masked, KvCache* cache) const {
  const ModelConfig& c = config_;
  const int64_t B = x.size(0), T = x.size(1);
  at::Tensor q = Project(layer.q, x).view({B, T, c.num_heads, c.head_dim});
  at::Tensor k = Project(layer.k, x).view({B, T, c.num_kv_heads, c.head_dim});
  at::Tensor v = Project(layer.v, x).view({B, T, c.num_kv_heads, c.head_dim});
  if (c.uses_qk_norm()) {
    q = RmsNorm(q, layer.q_norm.weight, c.norm_eps);
    k = RmsNorm(k, layer.k_norm.weight, c.norm_eps);
  }
  q = ApplyRope(q, cos, sin).transpose(1, 2);  // (B, H, T, hd)
  k = ApplyRope(k, cos, sin).transpose(1, 2);  // (B, KV, T, hd)
  v = v.transpose(1, 2);
  if (cache != nullptr) {
    const int64_t past = cache->length_;
    cache->k_[index].narrow(2, past, T).copy_(k);
    cache->v_[index].narrow(2, past, T).copy_(v);
    k = cache->k_[index].narrow(2, 0, past + T);
    v = cache->v_[index].narrow(2, 0, past + T);
  }
  // Grouped-query attention: query head h reads kv head h / (num_heads / num_kv_heads).
  const int64_t group = c.num_heads / c.num_kv_heads;
  if (group > 1) {
    k = k.repeat_interleave(group, 1);
    v = v.repeat_interleave(group, 1);
  }
  at::Tensor scores = at::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(c.head_dim));
  scores = scores.to(at::kFloat).masked_fill(masked, -INFINITY);
  at::Tensor probs = at::softmax(scores, -1).to(q.scalar_type());
  at::Tensor out = at::matmul(probs, v).transpose(1, 2).reshape({B, T, c.num_heads * c.head_dim});
  return Project(layer.o, out);
}

at::Tensor Transformer::Mlp(const Layer& layer, const at::Tensor& x) const {
  if (config_.uses_gated_mlp()) {
    return Project(layer.down, at::silu(Project(layer.gate, x)) * Project(layer.up, x));
  }
  return Project(layer.down, at::gelu(Project(layer.up, x), "tanh"));
}

std::pair<at::Tensor, at::Tensor> Transformer::Rope(const at::Tensor& positions) const {
  // (B, T, 1) * (hd/2) in f32, as transformers does, then duplicated for the two halves.
  at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq_;
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  return {emb.cos(), emb.sin()};
}

at::Tensor Transformer::Block(int64_t index, const at::Tensor& x, const at::Tensor& cos,
                              const at::Tensor& sin, const at::Tensor& masked,
                              KvCache* cache) const {
  const Layer& layer = layers_[static_cast<size_t>(index)];
  at::Tensor h = x + Attention(layer, index, ApplyNorm(layer.attn_norm, x), cos, sin, masked, cache);
  return h + Mlp(layer, ApplyNorm(layer.mlp_norm, h));
}

at::Tensor Transformer::Hidden(const at::Tensor& ids, KvCache* cache) const {
  TORCH_CHECK(ids.dim() == 2, "Transformer: ids must be (B, T), got ", ids.sizes());
  const int64_t T = ids.size(1);
  const int64_t past = cache != nullptr ? cache->length_ : 0;
  if (cache != nullptr) {
    TORCH_CHECK(past + T <= cache->capacity_, "KvCache: ", past + T,
                " tokens exceed its capacity of ", cache->capacity_);
  }
  auto [cos, sin] = Rope(at::arange(past, past + T, ids.options()).unsqueeze(0));
  // Query t (absolute position past + t) sees keys j <= past + t, within the sliding window.
  at::Tensor qpos = at::arange(past, past + T, ids.options()).unsqueeze(1);
  at::Tensor kpos = at::arange(0, past + T, ids.options()).unsqueeze(0);
  at::Tensor masked = kpos > qpos;
  if (config_.sliding_window) masked = masked.logical_or(kpos <= qpos - *config_.sliding_window);
  masked = masked.view({1, 1, T, past + T});
  at::Tensor x = at::embedding(embed_, ids);
  for (int64_t i = 0; i < config_.num_layers; ++i) x = Block(i, x, cos, sin, masked, cache);
  if (cache != nullptr) cache->length_ += T;
  return ApplyNorm(final_norm_, x);
}

at::Tensor Transformer::HiddenPacked(const at::Tensor& ids, const at::Tensor& positions,
                                     const at::Tensor& segments, bool checkpoint) const {
  TORCH_CHECK(ids.dim() == 2 && positions.sizes() == ids.sizes() && segments.sizes() == ids.sizes(),
              "HiddenPacked: ids, positions and segments must all be (B, T)");
  const int64_t B = ids.size(0), T = ids.size(1);
  auto [cos, sin] = Rope(positions);
  at::Tensor idx = at::arange(T, ids.options());
  at::Tensor masked = (idx.unsqueeze(0) > idx.unsqueeze(1)).unsqueeze(0);  // (1, T, T) causal
  masked = masked.logical_or(segments.unsqueeze(2) != segments.unsqueeze(1));  // (B, T, T)
  if (config_.sliding_window) {
    masked = masked.logical_or(positions.unsqueeze(1) <= positions.unsqueeze(2) - *config_.sliding_window);
  }
  masked = masked.view({B, 1, T, T});
  at::Tensor x = at::embedding(embed_, ids);
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    if (!checkpoint) {
      x = Block(i, x, cos, sin, masked, nullptr);
      continue;
    }
    std::vector<at::Tensor> trainable;
    for (const Linear* l : {&layers_[i].q, &layers_[i].k, &layers_[i].v, &layers_[i].o,
                            &layers_[i].gate, &layers_[i].up, &layers_[i].down}) {
      for (const at::Tensor* t : {&l->lora_a, &l->lora_b}) {
        if (t->defined() && t->requires_grad()) trainable.push_back(*t);
      }
    }
    // As an at::TensorList, so that autograd sees the adapters as inputs (a std::vector is not).
    x = CheckpointedBlock::apply(x, cos, sin, masked, at::TensorList(trainable), this, i);
  }
  return ApplyNorm(final_norm_, x);
}

at::Tensor Transformer::Logits(const at::Tensor& hidden) const {
  return at::linear(hidden, lm_head_).to(at::kFloat);
}

at::Tensor Transformer::Forward(const at::Tensor& ids, KvCache* cache) const {
  return Logits(Hidden(ids, cache));
}

std::vector<NamedLinear> Transformer::Linears() {
  std::vector<NamedLinear> out;
  for (size_t i = 0; i < layers_.size(); ++i) {
    LayerNames n = NamesOf(config_, static_cast<int64_t>(i));
    Layer& l = layers_[i];
    out.push_back({n.q, &l.q});
    out.push_back({n.k, &l.k});
    out.push_back({n.v, &l.v});
    out.push_back({n.o, &l.o});
    if (config_.uses_gated_mlp()) out.push_back({n.gate, &l.gate});
    out.push_back({n.up, &l.up});
    out.push_back({n.down, &l.down});
  }
  return out;
}

std::vector<std::pair<std::string, at::Tensor*>> Transformer::DenseParameters() {
  std::vector<std::pair<std::string, at::Tensor*>> out;
  auto add = [&out](const std::string& name, at::Tensor& t) {
    if (t.defined()) out.emplace_back(name, &t);
  };
  auto add_norm = [&add](const std::string& name, Norm& n) {
    add(name + ".weight", n.weight);
    add(name + ".bias", n.bias);
  };
  add("model.embed_tokens.weight", embed_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const LayerNames n = NamesOf(config_, static_cast<int64_t>(i));
    Layer& l = layers_[i];
    add_norm(n.attn_norm, l.attn_norm);
    add_norm(n.mlp_norm, l.mlp_norm);
    add_norm(n.q_norm, l.q_norm);
    add_norm(n.k_norm, l.k_norm);
  }
  for (const NamedLinear& nl : Linears()) {
    add(nl.name + ".weight", nl.linear->weight);
    add(nl.name + ".bias", nl.linear->bias);
  }
  add_norm("model.norm", final_norm_);
  if (!config_.tie_word_embeddings) add("lm_head.weight", lm_head_);
  return out;
}

}  // namespace tune::model
