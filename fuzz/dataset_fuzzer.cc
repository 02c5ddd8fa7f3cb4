// The dataset directory's JSON records: ReadManifest (manifest.json) and ReadSplit (split.json),
// both given the input. What ReadManifest accepts must survive ManifestToJson and read back
// equal.
#include "data/dataset.h"
#include "fuzz/fuzz_target.h"

TUNE_FUZZ_TARGET(dataset) {
  const std::filesystem::path manifest_path = tune::fuzz::WriteInput("manifest.json", input);
  const std::filesystem::path dir = manifest_path.parent_path();
  absl::StatusOr<tune::data::SplitRecord> split =
      tune::data::ReadSplit(tune::fuzz::WriteInput("split.json", input).parent_path());
  if (!split.ok()) tune::fuzz::CheckError(split.status(), (dir / "split.json").string());
  absl::StatusOr<tune::data::DatasetManifest> manifest = tune::data::ReadManifest(dir);
  if (!manifest.ok()) return tune::fuzz::CheckError(manifest.status(), manifest_path.string());
  const std::string json = tune::data::ManifestToJson(*manifest);
  tune::fuzz::WriteInput("manifest.json", json);
  absl::StatusOr<tune::data::DatasetManifest> again = tune::data::ReadManifest(dir);
  TUNE_FUZZ_CHECK(again.ok() && tune::data::ManifestToJson(*again) == json);
}
