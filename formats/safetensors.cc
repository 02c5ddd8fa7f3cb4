#include "formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/status.h"

namespace tune::formats {
namespace {

using json = nlohmann::json;

// Headers of real checkpoints are well under 10 MB; a larger value means a corrupt file.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

absl::Status Corrupt(const std::filesystem::path& path, std::string_view detail) {
  return absl::DataLossError(absl::StrFormat(
      "%s: not a valid safetensors file: %s; hint: re-download or re-export the file",
      path.string(), detail));
}

}  // namespace

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

// One tensor's header entry, checked against the data buffer: dtype, shape (no overflow),
// offsets inside the buffer and exactly as many bytes as dtype and shape need.
absl::StatusOr<TensorView> ParseTensor(const std::filesystem::path& path, const std::string& name, const json& entry,
                                       const uint8_t* buffer, uint64_t buffer_size) {
  if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() || !entry.contains("shape") ||
      !entry["shape"].is_array() || !entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
      entry["data_offsets"].size() != 2) {
    return Corrupt(path, absl::StrFormat("tensor '%s' lacks dtype, shape or data_offsets", name));
  }
  TensorView view;
  view.name = name;
  const std::string dtype_name = entry["dtype"].get<std::string>();
  std::optional<DType> dtype = DTypeFromName(dtype_name);
  if (!dtype) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: tensor '%s' has dtype %s, which tune does not read (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)",
        path.string(), name, dtype_name));
  }
  view.dtype = *dtype;
  uint64_t numel = 1;
  for (const json& d : entry["shape"]) {
    if (!d.is_number_unsigned()) return Corrupt(path, absl::StrFormat("tensor '%s' has a bad shape", name));
    const uint64_t dim = d.get<uint64_t>();
    if (dim != 0 && numel > (uint64_t{1} << 62) / dim) {
      return Corrupt(path, absl::StrFormat("tensor '%s' shape overflows", name));
    }
    numel *= dim;
    view.shape.push_back(static_cast<int64_t>(dim));
  }
  const json& offsets = entry["data_offsets"];
  if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
    return Corrupt(path, absl::StrFormat("tensor '%s' has bad data_offsets", name));
  }
  const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  if (begin > end || end > buffer_size) {
    return Corrupt(path, absl::StrFormat("tensor '%s' data_offsets [%d, %d] lie outside the %d-byte data buffer "
                                         "(truncated file or lying header)",
                                         name, begin, end, buffer_size));
  }
  if (end - begin != numel * DTypeSize(view.dtype)) {
    return Corrupt(path, absl::StrFormat("tensor '%s' holds %d bytes but dtype %s and its shape need %d", name,
                                         end - begin, dtype_name, numel * DTypeSize(view.dtype)));
  }
  view.data = buffer + begin;
  view.nbytes = end - begin;
  return view;
}

// Overlapping tensors would alias each other's bytes: rejected, as the reference reader does.
absl::Status CheckNoOverlap(const std::filesystem::path& path, const std::vector<TensorView>& tensors) {
  std::vector<const TensorView*> by_offset;
  for (const TensorView& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorView* a, const TensorView* b) { return a->data < b->data; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i - 1]->data + by_offset[i - 1]->nbytes > by_offset[i]->data) {
      return Corrupt(path, absl::StrFormat("tensors '%s' and '%s' overlap", by_offset[i - 1]->name, by_offset[i]->name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::filesystem::path& path) {
  TUNE_ASSIGN_OR_RETURN(core::MappedFile mapped, core::MappedFile::Open(path));
  SafetensorsFile file(std::move(mapped));
  const uint8_t* base = file.file_.data();
  const size_t size = file.file_.size();
  if (size < 8) return Corrupt(path, absl::StrFormat("file is %d bytes, shorter than the 8-byte header size", size));
  uint64_t header_size = 0;
  std::memcpy(&header_size, base, 8);  // little-endian host assumed (x86-64, aarch64)
  if (header_size > kMaxHeaderBytes || header_size > size - 8) {
    return Corrupt(path, absl::StrFormat("header size %d exceeds the file size %d (truncated?)", header_size, size));
  }
  json header = json::parse(base + 8, base + 8 + header_size, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return Corrupt(path, "header is not a JSON object");
  const uint8_t* buffer = base + 8 + header_size;
  const uint64_t buffer_size = size - 8 - header_size;
  for (auto& [name, entry] : header.items()) {
    if (name != "__metadata__") {
      TUNE_ASSIGN_OR_RETURN(TensorView view, ParseTensor(path, name, entry, buffer, buffer_size));
      file.tensors_.push_back(std::move(view));
      continue;
    }
    if (!entry.is_object()) return Corrupt(path, "__metadata__ is not an object");
    for (auto& [k, v] : entry.items()) {
      if (!v.is_string()) return Corrupt(path, absl::StrFormat("__metadata__.%s is not a string", k));
      file.metadata_[k] = v.get<std::string>();
    }
  }
  TUNE_RETURN_IF_ERROR(CheckNoOverlap(path, file.tensors_));
  return file;
}

const TensorView* SafetensorsFile::Find(std::string_view name) const {
  for (const TensorView& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

absl::StatusOr<SafetensorsCheckpoint> SafetensorsCheckpoint::OpenFile(
    const std::filesystem::path& file) {
  SafetensorsCheckpoint ckpt;
  ckpt.origin_ = file;
  TUNE_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::Open(file));
  ckpt.files_.push_back(std::make_unique<SafetensorsFile>(std::move(f)));
  for (const TensorView& t : ckpt.files_.back()->tensors()) ckpt.by_name_[t.name] = &t;
  return ckpt;
}

absl::StatusOr<SafetensorsCheckpoint> SafetensorsCheckpoint::Open(
    const std::filesystem::path& dir) {
  std::filesystem::path single = dir / "model.safetensors";
  std::filesystem::path index_path = dir / "model.safetensors.index.json";
  if (!std::filesystem::exists(index_path)) {
    if (!std::filesystem::exists(single)) {
      return absl::NotFoundError(absl::StrFormat(
          "%s has neither model.safetensors nor model.safetensors.index.json; hint: pass a "
          "Hugging Face model directory (PyTorch .bin checkpoints are not read)",
          dir.string()));
    }
    return OpenFile(single);
  }
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(index_path));
  json index = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    return absl::DataLossError(
        absl::StrFormat("%s: no \"weight_map\" object", index_path.string()));
  }
  SafetensorsCheckpoint ckpt;
  ckpt.origin_ = dir;
  std::map<std::string, SafetensorsFile*> shards;
  for (auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) {
      return absl::DataLossError(
          absl::StrFormat("%s: weight_map.%s is not a file name", index_path.string(), name));
    }
    std::string shard_name = shard.get<std::string>();
    if (shard_name.find('/') != std::string::npos) {
      return absl::DataLossError(absl::StrFormat("%s: shard '%s' is not a plain file name",
                                                 index_path.string(), shard_name));
    }
    auto it = shards.find(shard_name);
    if (it == shards.end()) {
      std::filesystem::path shard_path = dir / shard_name;
      if (!std::filesystem::exists(shard_path)) {
        return absl::NotFoundError(absl::StrFormat(
            "%s lists shard %s, which is missing; hint: the download is incomplete",
            index_path.string(), shard_path.string()));
      }
      TUNE_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::Open(shard_path));
      ckpt.files_.push_back(std::make_unique<SafetensorsFile>(std::move(f)));
      it = shards.emplace(shard_name, ckpt.files_.back().get()).first;
    }
    const TensorView* view = it->second->Find(name);
    if (view == nullptr) {
      return absl::DataLossError(absl::StrFormat("%s maps tensor '%s' to %s, which lacks it",
                                                 index_path.string(), name, shard_name));
    }
    ckpt.by_name_[name] = view;
  }
  return ckpt;
}

const TensorView* SafetensorsCheckpoint::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, view] : by_name_) out.push_back(name);
  return out;
}

absl::Status SafetensorsWriter::Add(std::string name, DType dtype, std::vector<int64_t> shape,
                                    std::string_view data) {
  uint64_t numel = 1;
  for (int64_t d : shape) numel *= static_cast<uint64_t>(d);
  if (numel * DTypeSize(dtype) != data.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tensor '%s': %d bytes given, dtype and shape need %d", name, data.size(),
        numel * DTypeSize(dtype)));
  }
  for (const Entry& e : entries_) {
    if (e.name == name) {
      return absl::InvalidArgumentError(absl::StrFormat("tensor '%s' added twice", name));
    }
  }
  entries_.push_back({std::move(name), dtype, std::move(shape), data});
  return absl::OkStatus();
}

absl::Status SafetensorsWriter::Write(const std::filesystem::path& path) const {
  json header = json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const Entry& e : entries_) {
    header[e.name] = {{"dtype", DTypeName(e.dtype)},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + e.data.size()}}};
    offset += e.data.size();
  }
  std::string text = header.dump();
  // Pad the header with spaces to 8 bytes so the data buffer is aligned, as the reference does.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint64_t n = text.size();
  TUNE_ASSIGN_OR_RETURN(core::AtomicFileWriter out, core::AtomicFileWriter::Open(path));
  TUNE_RETURN_IF_ERROR(out.Append(std::string_view(reinterpret_cast<const char*>(&n), 8)));
  TUNE_RETURN_IF_ERROR(out.Append(text));
  for (const Entry& e : entries_) TUNE_RETURN_IF_ERROR(out.Append(e.data));
  return out.Commit();
}

}  // namespace tune::formats
