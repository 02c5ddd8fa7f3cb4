#include "train/checkpoint.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "formats/safetensors.h"
#include "model/tensor_io.h"

namespace tune::train {
namespace {

using json = nlohmann::json;

std::string StepDirName(int64_t step) { return absl::StrFormat("step-%08d", step); }

}  // namespace

absl::Status SaveCheckpoint(const std::filesystem::path& out, const TrainState& state) {
  const std::filesystem::path root = out / "checkpoints";
  const std::string name = StepDirName(state.step);
  const std::filesystem::path tmp = root / (name + ".tmp");
  const std::filesystem::path final_dir = root / name;
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  std::filesystem::create_directories(tmp, ec);
  if (ec) return core::ErrnoStatus(ec.value(), "create checkpoint directory", tmp);
  json meta = {{"format_version", kCheckpointFormatVersion},
               {"step", state.step},
               {"data",
                {{"epoch", state.data.epoch},
                 {"document", state.data.document},
                 {"offset", state.data.offset},
                 {"micro_batch", state.data.micro_batch}}},
               {"run", state.run_fingerprint}};
  absl::Status written = model::WriteSafetensors(tmp / "state.safetensors", state.tensors);
  if (written.ok()) written = core::WriteFileAtomic(tmp / "state.json", meta.dump(2) + "\n");
  if (!written.ok()) {
    std::filesystem::remove_all(tmp, ec);
    return written;
  }
  std::filesystem::remove_all(final_dir, ec);
  std::filesystem::rename(tmp, final_dir, ec);
  if (ec) return core::ErrnoStatus(ec.value(), "rename checkpoint into", final_dir);
  // Read the previous pointer before replacing it: that checkpoint is kept as a fallback.
  absl::StatusOr<std::string> previous = core::ReadFile(root / "latest");
  TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(root / "latest", name + "\n"));
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    const std::string n = entry.path().filename().string();
    const bool keep = n == "latest" || n == name || (previous.ok() && n + "\n" == *previous);
    if (!keep) std::filesystem::remove_all(entry.path(), ec);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<TrainState>> LoadLatestCheckpoint(const std::filesystem::path& out) {
  const std::filesystem::path root = out / "checkpoints";
  absl::StatusOr<std::string> latest = core::ReadFile(root / "latest");
  if (absl::IsNotFound(latest.status())) return std::optional<TrainState>();
  if (!latest.ok()) return latest.status();
  std::string name = *latest;
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  const std::filesystem::path dir = root / name;
  TUNE_ASSIGN_OR_RETURN(std::string meta_text, core::ReadFile(dir / "state.json"));
  json meta = json::parse(meta_text, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object() || !meta.contains("format_version") || !meta.contains("step") ||
      !meta.contains("data") || !meta.contains("run")) {
    return absl::DataLossError(absl::StrFormat("%s: not a tune checkpoint", (dir / "state.json").string()));
  }
  if (meta["format_version"] != kCheckpointFormatVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: checkpoint format %s, this build reads %d; hint: start a new run without --resume",
        (dir / "state.json").string(), meta["format_version"].dump(), kCheckpointFormatVersion));
  }
  TrainState state;
  try {
    state.step = meta["step"].get<int64_t>();
    state.data.epoch = meta["data"]["epoch"].get<int64_t>();
    state.data.document = meta["data"]["document"].get<int64_t>();
    state.data.offset = meta["data"]["offset"].get<int64_t>();
    state.data.micro_batch = meta["data"]["micro_batch"].get<int64_t>();
    state.run_fingerprint = meta["run"].get<std::string>();
  } catch (const json::exception& e) {
    return absl::DataLossError(absl::StrFormat("%s: %s", (dir / "state.json").string(), e.what()));
  }
  TUNE_ASSIGN_OR_RETURN(formats::SafetensorsCheckpoint tensors,
                        formats::SafetensorsCheckpoint::OpenFile(dir / "state.safetensors"));
  for (const std::string& n : tensors.names()) {
    const formats::TensorView* view = tensors.Find(n);
    at::ScalarType type = view->dtype == formats::DType::kU8 ? at::kByte : at::kFloat;
    TUNE_ASSIGN_OR_RETURN(at::Tensor t, model::ToTensor(*view, type));
    state.tensors.push_back({n, t});
  }
  return std::optional<TrainState>(std::move(state));
}

}  // namespace tune::train
