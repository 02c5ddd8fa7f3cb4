#include "gguf/arch.h"

#include <array>
#include <charconv>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/status.h"

namespace tune::gguf {
namespace {

constexpr std::array<std::pair<Arch, std::string_view>, 4> kArchs = {{
    {Arch::kLlama, "llama"},
    {Arch::kQwen2, "qwen2"},
    {Arch::kQwen3, "qwen3"},
    {Arch::kStarcoder2, "starcoder2"},
}};

struct NameRule {
  std::string_view hf;    // module path after "model.layers.N." (or the full name at the top)
  std::string_view gguf;  // "blk.N." + this, or the full GGUF name at the top
  bool (*applies)(Arch);
};

bool Any(Arch) { return true; }
bool GatedFfn(Arch a) { return a != Arch::kStarcoder2; }
bool Starcoder2(Arch a) { return a == Arch::kStarcoder2; }
bool Qwen3(Arch a) { return a == Arch::kQwen3; }

constexpr std::array<NameRule, 4> kTopRules = {{
    {"model.embed_tokens", "token_embd", Any},
    {"lm_head", "output", Any},
    {"model.norm", "output_norm", Any},
    {"model.rotary_emb.inv_freq", "", Any},
}};

constexpr std::array<NameRule, 14> kBlockRules = {{
    {"input_layernorm", "attn_norm", Any},
    {"self_attn.q_proj", "attn_q", Any},
    {"self_attn.k_proj", "attn_k", Any},
    {"self_attn.v_proj", "attn_v", Any},
    {"self_attn.o_proj", "attn_output", Any},
    {"self_attn.q_norm", "attn_q_norm", Qwen3},
    {"self_attn.k_norm", "attn_k_norm", Qwen3},
    {"self_attn.rotary_emb.inv_freq", "", Any},
    {"post_attention_layernorm", "ffn_norm", Any},
    {"mlp.gate_proj", "ffn_gate", GatedFfn},
    {"mlp.up_proj", "ffn_up", GatedFfn},
    {"mlp.down_proj", "ffn_down", GatedFfn},
    {"mlp.c_fc", "ffn_up", Starcoder2},
    {"mlp.c_proj", "ffn_down", Starcoder2},
}};

// Splits "x.weight" / "x.bias" into module and suffix; inv_freq has no suffix.
std::pair<std::string_view, std::string_view> SplitSuffix(std::string_view name) {
  for (std::string_view suffix : {".weight", ".bias"}) {
    if (name.ends_with(suffix)) {
      return {name.substr(0, name.size() - suffix.size()), suffix};
    }
  }
  return {name, ""};
}

}  // namespace

absl::StatusOr<Arch> ArchFromModelType(std::string_view model_type) {
  std::string names;
  for (const auto& [arch, name] : kArchs) {
    if (name == model_type) return arch;
    names += absl::StrFormat("%s%s", names.empty() ? "" : ", ", name);
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "model_type '%s' cannot be exported to GGUF; hint: supported are %s", model_type, names));
}

std::string_view ArchName(Arch arch) {
  for (const auto& [a, name] : kArchs) {
    if (a == arch) return name;
  }
  return "";
}

absl::Status SetArchMetadata(GgufWriter& writer, Arch arch, const HParams& hp) {
  for (uint32_t v : {hp.n_layer, hp.n_ctx, hp.n_embd, hp.n_ff, hp.n_head, hp.n_head_kv, hp.head_dim,
                     hp.n_vocab}) {
    if (v == 0) {
      return absl::InvalidArgumentError(
          "gguf hyperparameters must all be positive; hint: check config.json");
    }
  }
  if (hp.n_head % hp.n_head_kv != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("num_attention_heads %d is not a multiple of num_key_value_heads %d",
                        hp.n_head, hp.n_head_kv));
  }
  const std::string a(ArchName(arch));
  const std::string eps_key = arch == Arch::kStarcoder2 ? "attention.layer_norm_epsilon"
                                                        : "attention.layer_norm_rms_epsilon";
  const std::vector<std::pair<std::string, Value>> kvs = {
      {"block_count", hp.n_layer},
      {"context_length", hp.n_ctx},
      {"embedding_length", hp.n_embd},
      {"feed_forward_length", hp.n_ff},
      {"attention.head_count", hp.n_head},
      {"attention.head_count_kv", hp.n_head_kv},
      {"attention.key_length", hp.head_dim},
      {"attention.value_length", hp.head_dim},
      {"rope.dimension_count", hp.head_dim},
      {"rope.freq_base", hp.rope_theta},
      {eps_key, hp.norm_eps},
      {"vocab_size", hp.n_vocab},
  };
  TUNE_RETURN_IF_ERROR(writer.Set("general.architecture", a));
  for (const auto& [key, value] : kvs) {
    TUNE_RETURN_IF_ERROR(writer.Set(absl::StrFormat("%s.%s", a, key), value));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> GgufTensorName(Arch arch, std::string_view hf_name) {
  // Not a structured binding: clang 14 (the sanitizer build) cannot capture those in a lambda.
  const std::pair<std::string_view, std::string_view> split = SplitSuffix(hf_name);
  const std::string_view module = split.first, suffix = split.second;
  auto mapped = [&](std::string_view gguf) -> std::optional<std::string> {
    if (gguf.empty()) return std::nullopt;
    return absl::StrFormat("%s%s", gguf, suffix);
  };
  for (const NameRule& rule : kTopRules) {
    if (rule.hf == module && rule.applies(arch)) return mapped(rule.gguf);
  }
  std::string_view rest = module;
  int layer = -1;
  if (rest.starts_with("model.layers.")) {
    rest.remove_prefix(std::strlen("model.layers."));
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), layer);
    if (ec == std::errc() && end < rest.data() + rest.size() && *end == '.') {
      rest.remove_prefix(static_cast<size_t>(end - rest.data()) + 1);
      for (const NameRule& rule : kBlockRules) {
        if (rule.hf == rest && rule.applies(arch)) {
          if (rule.gguf.empty()) return std::optional<std::string>();
          return mapped(absl::StrFormat("blk.%d.%s", layer, rule.gguf));
        }
      }
    }
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "tensor '%s' has no place in a %s GGUF; hint: llama.cpp refuses files with tensors it "
      "does not create",
      hf_name, ArchName(arch)));
}

int QkPermuteHeads(Arch arch, std::string_view gguf_name, const HParams& hp) {
  if (arch != Arch::kLlama) return 0;
  if (gguf_name.find(".attn_q.") != std::string_view::npos) return static_cast<int>(hp.n_head);
  if (gguf_name.find(".attn_k.") != std::string_view::npos) return static_cast<int>(hp.n_head_kv);
  return 0;
}

void PermuteQkRows(std::span<const float> in, int64_t rows, int64_t cols, int n_head,
                   std::span<float> out) {
  const int64_t hd = rows / n_head;
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t i = 0; i < hd / 2; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t dst = h * hd + 2 * i + j;
        const int64_t src = h * hd + j * hd / 2 + i;
        std::memcpy(&out[dst * cols], &in[src * cols], cols * sizeof(float));
      }
    }
  }
}

}  // namespace tune::gguf
