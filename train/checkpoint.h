// Training checkpoints: everything needed to continue a run exactly where it stopped.
//
// <out>/checkpoints/step-NNNNNNNN/
//   state.json           {"format_version": 1, "step", "data": {epoch, document, offset,
//                         micro_batch}, "run": <fingerprint of the settings that must not change>}
//   state.safetensors    adapter tensors ("<module>.lora_A"/"lora_B", in lora.dtype), AdamW
//                        moments ("<module>.lora_A.exp_avg", ...), f32 master weights of bf16
//                        adapters ("<module>.lora_A.master"), and "rng" / "rng.cuda" (the
//                        state of the CPU / CUDA device's default generator, u8)
// <out>/checkpoints/latest   the name of the newest complete checkpoint directory
//
// A checkpoint is written into a temporary directory and renamed into place before `latest`
// is updated (atomically), so a kill -9 at any moment leaves the previous checkpoint usable.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "train/batcher.h"

namespace tune::train {

inline constexpr int kCheckpointFormatVersion = 1;

struct TrainState {
  int64_t step = 0;  // optimizer steps completed
  BatcherPosition data;
  std::string run_fingerprint;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
};

// Writes step-<step> under <out>/checkpoints, points `latest` at it, removes older ones but the
// previous. ResourceExhausted when the disk is full (the previous checkpoint stays).
absl::Status SaveCheckpoint(const std::filesystem::path& out, const TrainState& state);

// Reads the checkpoint `latest` names; nullopt if the run has none. DataLoss for a corrupt one,
// FailedPrecondition for another format version.
absl::StatusOr<std::optional<TrainState>> LoadLatestCheckpoint(const std::filesystem::path& out);

}  // namespace tune::train
