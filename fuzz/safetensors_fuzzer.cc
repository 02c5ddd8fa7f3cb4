// SafetensorsFile::Open on arbitrary bytes: header length, header JSON, dtypes, shapes, offsets.
// Every accepted tensor is exactly numel * dtype size bytes, tensors do not overlap (their sizes
// fit in the file), and every byte of each is readable.
#include <numeric>

#include "formats/safetensors.h"
#include "fuzz/fuzz_target.h"

TUNE_FUZZ_TARGET(safetensors) {
  const std::filesystem::path path = tune::fuzz::WriteInput("model.safetensors", input);
  absl::StatusOr<tune::formats::SafetensorsFile> file = tune::formats::SafetensorsFile::Open(path);
  if (!file.ok()) return tune::fuzz::CheckError(file.status(), path.string());
  size_t total = 0;
  for (const tune::formats::TensorView& tensor : file->tensors()) {
    TUNE_FUZZ_CHECK(file->Find(tensor.name) == &tensor);
    TUNE_FUZZ_CHECK(tensor.numel() >= 0);
    TUNE_FUZZ_CHECK(tensor.nbytes == static_cast<size_t>(tensor.numel()) *
                                         tune::formats::DTypeSize(tensor.dtype));
    total += tensor.nbytes;
    TUNE_FUZZ_CHECK(total <= input.size());
    const unsigned sum = std::accumulate(tensor.data, tensor.data + tensor.nbytes, 0u);
    TUNE_FUZZ_CHECK(sum <= 255u * tensor.nbytes);
  }
}
