// GgufFile::Open on arbitrary bytes: header, metadata of every value type, tensor infos,
// alignment and data offsets. What it accepts must be self-consistent.
#include "fuzz/fuzz_target.h"
#include "gguf/gguf_reader.h"

TUNE_FUZZ_TARGET(gguf) {
  const std::filesystem::path path = tune::fuzz::WriteInput("model.gguf", input);
  absl::StatusOr<tune::gguf::GgufFile> file = tune::gguf::GgufFile::Open(path);
  if (!file.ok()) return tune::fuzz::CheckError(file.status(), path.string());
  for (const tune::gguf::KeyValue& kv : file->metadata()) {
    TUNE_FUZZ_CHECK(file->Find(kv.key) != nullptr);
    TUNE_FUZZ_CHECK(!tune::gguf::DescribeType(kv.value).empty());
  }
  for (const tune::gguf::TensorInfo& tensor : file->tensors()) {
    TUNE_FUZZ_CHECK(file->FindTensor(tensor.name) != nullptr);
    TUNE_FUZZ_CHECK(tensor.numel() >= 0);
    const std::string_view bytes = file->TensorData(tensor);
    TUNE_FUZZ_CHECK(bytes.size() == tensor.nbytes);
    TUNE_FUZZ_CHECK(file->data_offset() + tensor.offset + tensor.nbytes <= input.size());
  }
}
