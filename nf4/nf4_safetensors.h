// NF4 tensors in the safetensors layout bitsandbytes writes (`Linear4bit._save_to_state_dict`
// with `QuantState.as_dict(packed=True)`), so that a pre-quantized `*-bnb-4bit` Hugging Face
// checkpoint loads without re-quantizing, and tune's own NF4 weights load in transformers.
//
// For a weight named W (e.g. "model.layers.0.mlp.down_proj.weight"), double quantization on:
//   W                                   U8  [(numel+1)/2, 1]  packed codes
//   W.absmax                            U8  [blocks]          qabsmax
//   W.quant_map                         F32 [16]              kNf4Code
//   W.nested_absmax                     F32 [nested blocks]   absmax2
//   W.nested_quant_map                  F32 [256]             nested_code
//   W.quant_state.bitsandbytes__nf4     U8  [len]             UTF-8 JSON of the other fields:
//     {"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [out, in],
//      "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": <offset>}
// Without double quantization (bnb_4bit_use_double_quant=False, transformers' default) W.absmax
// is F32 [blocks] and the nested entries and JSON keys are absent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "formats/safetensors.h"
#include "nf4/nf4.h"

namespace tune::nf4 {

// A quantized weight with what bnb records beside it.
struct BnbNf4Tensor {
  // Without double quantization only `layout` and `packed` are set: dequantize with
  // DequantizeCodes*(weights.packed, absmax, weights.layout, ...).
  Nf4Weights weights;
  bool double_quantized = true;
  std::vector<float> absmax;       // f32 per block, only when !double_quantized
  std::vector<int64_t> shape;      // the original [out, in]; its product is weights.layout.numel
  std::string dtype = "bfloat16";  // torch dtype name of the unquantized weight
};

// The JSON blob stored under W.quant_state.bitsandbytes__nf4, keys in bnb's order.
std::string BnbQuantStateJson(const BnbNf4Tensor& tensor);

// Adds the entries for `name` (six, or four without double quantization). The writer borrows
// the bytes of `tensor` and of `quant_state_json` (BnbQuantStateJson(tensor)): both must outlive
// writer->Write(). InvalidArgument when shape and numel disagree or the writer rejects a name.
absl::Status AddBnbNf4(std::string_view name, const BnbNf4Tensor& tensor,
                       std::string_view quant_state_json, formats::SafetensorsWriter* writer);

// Reads and validates the entries of `name` (copying their bytes). NotFound when `name` is
// absent; DataLoss naming the entry for a missing companion, a wrong dtype or size, bad JSON or
// a quant_map that is not NF4's; Unimplemented for FP4.
absl::StatusOr<BnbNf4Tensor> ReadBnbNf4(const formats::SafetensorsCheckpoint& checkpoint,
                                        std::string_view name);

}  // namespace tune::nf4
