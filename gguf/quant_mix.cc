#include "gguf/quant_mix.h"

#include <array>
#include <cctype>
#include <charconv>
#include <string>

#include "absl/strings/str_format.h"

namespace tune::gguf {
namespace {

struct FileTypeInfo {
  FileType type;
  std::string_view name;
  GgmlType base;  // the type of every quantizable tensor before the mix rules
};

constexpr std::array<FileTypeInfo, 10> kFileTypes = {{
    {FileType::kF32, "F32", GgmlType::kF32},
    {FileType::kF16, "F16", GgmlType::kF16},
    {FileType::kBF16, "BF16", GgmlType::kBF16},
    {FileType::kQ8_0, "Q8_0", GgmlType::kQ8_0},
    {FileType::kQ4_0, "Q4_0", GgmlType::kQ4_0},
    {FileType::kQ4_K_S, "Q4_K_S", GgmlType::kQ4_K},
    {FileType::kQ4_K_M, "Q4_K_M", GgmlType::kQ4_K},
    {FileType::kQ5_K_S, "Q5_K_S", GgmlType::kQ5_K},
    {FileType::kQ5_K_M, "Q5_K_M", GgmlType::kQ5_K},
    {FileType::kQ6_K, "Q6_K", GgmlType::kQ6_K},
}};

const FileTypeInfo& Info(FileType type) {
  for (const FileTypeInfo& info : kFileTypes) {
    if (info.type == type) return info;
  }
  return kFileTypes[0];  // unreachable: FileType only holds the values above
}

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// tensor_allows_quantization, restricted to the tensors of dense text models.
bool AllowsQuantization(std::string_view name, const std::vector<int64_t>& ne) {
  return ne.size() >= 2 && name.ends_with("weight") && !Contains(name, "_norm.weight") &&
         !Contains(name, "ffn_gate_inp") && name != "position_embd.weight" &&
         name != "token_types.weight";
}

// llama.cpp counts attn_v / ffn_down tensors in file order; with tensors in layer order that
// is the block index, read here from the "blk.N." prefix.
int LayerOf(std::string_view name) {
  int layer = 0;
  if (name.starts_with("blk.")) {
    std::from_chars(name.data() + 4, name.data() + name.size(), layer);
  }
  return layer;
}

bool UseMoreBits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// tensor_type_fallback: k-quants need rows that are a multiple of 256.
GgmlType Fallback(GgmlType type, int64_t ne0) {
  if (ne0 % GgmlBlockSize(type) == 0) return type;
  GgmlType next = GgmlType::kF16;
  switch (type) {
    case GgmlType::kQ4_K:
      next = GgmlType::kQ5_0;
      break;
    case GgmlType::kQ5_K:
      next = GgmlType::kQ5_1;
      break;
    case GgmlType::kQ6_K:
      next = GgmlType::kQ8_0;
      break;
    default:
      break;  // llama.cpp aborts for Q4_0/Q8_0 here; F16 keeps the export going
  }
  return ne0 % GgmlBlockSize(next) == 0 ? next : GgmlType::kF16;
}

}  // namespace

absl::StatusOr<FileType> ParseFileType(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string names;
  for (const FileTypeInfo& info : kFileTypes) {
    if (info.name == upper) return info.type;
    names += absl::StrFormat("%s%s", names.empty() ? "" : ", ", info.name);
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown quantization '%s'; hint: use one of %s", name, names));
}

std::string_view FileTypeName(FileType type) { return Info(type).name; }

GgmlType TensorTypeFor(FileType ftype, std::string_view name, const std::vector<int64_t>& ne,
                       const ModelLayout& model) {
  if (!AllowsQuantization(name, ne)) return GgmlType::kF32;
  GgmlType type = Info(ftype).base;
  if (!IsQuantized(type)) return type;

  const bool is_output = name == "output.weight";
  const bool is_token_embd = name == "token_embd.weight";
  const int layer = LayerOf(name);
  const bool k_m = ftype == FileType::kQ4_K_M || ftype == FileType::kQ5_K_M;
  if (is_output || (is_token_embd && !model.has_output_weight)) {
    if (ne[0] % GgmlBlockSize(type) != 0) {
      type = GgmlType::kQ8_0;
    } else if (type != GgmlType::kQ8_0) {
      type = GgmlType::kQ6_K;
    }
  } else if (Contains(name, "attn_v.weight") || Contains(name, "attn_qkv.weight")) {
    if (k_m && UseMoreBits(layer, model.n_layer)) {
      type = GgmlType::kQ6_K;
    } else if (ftype == FileType::kQ4_K_S && layer < 4) {
      type = GgmlType::kQ5_K;
    }
  } else if (Contains(name, "ffn_down")) {
    if (k_m && UseMoreBits(layer, model.n_layer)) {
      type = GgmlType::kQ6_K;
    } else if (ftype == FileType::kQ4_K_S && layer < model.n_layer / 8) {
      type = GgmlType::kQ5_K;
    }
  }
  return Fallback(type, ne[0]);
}

}  // namespace tune::gguf
