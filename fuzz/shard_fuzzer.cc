// ShardReader::Open on arbitrary bytes. The payload checksum is fixed up first (when the input
// has a header), so that the fuzzer gets past it to the counts, boundaries, token ids and mask.
// An accepted shard's documents must tile its tokens with ids inside the vocabulary.
#include <xxhash.h>

#include <cstring>
#include <string>

#include "data/shard.h"
#include "fuzz/fuzz_target.h"

TUNE_FUZZ_TARGET(shard) {
  constexpr size_t kHeaderSize = 64, kChecksumOffset = 32;
  std::string bytes(input);
  if (bytes.size() >= kHeaderSize) {
    const uint64_t checksum = XXH64(bytes.data() + kHeaderSize, bytes.size() - kHeaderSize, 0);
    std::memcpy(bytes.data() + kChecksumOffset, &checksum, sizeof(checksum));
  }
  const std::filesystem::path path = tune::fuzz::WriteInput("train-00000.shard", bytes);
  absl::StatusOr<tune::data::ShardReader> shard = tune::data::ShardReader::Open(path);
  if (!shard.ok()) return tune::fuzz::CheckError(shard.status(), path.string());
  uint64_t tokens = 0;
  for (uint64_t d = 0; d < shard->num_documents(); ++d) {
    TUNE_FUZZ_CHECK(shard->document_tokens(d).size() == shard->document_mask(d).size());
    tokens += shard->document_tokens(d).size();
  }
  TUNE_FUZZ_CHECK(tokens == shard->num_tokens());
  for (int32_t id : shard->tokens()) {
    TUNE_FUZZ_CHECK(id >= 0 && static_cast<uint32_t>(id) < shard->vocab_size());
  }
}
