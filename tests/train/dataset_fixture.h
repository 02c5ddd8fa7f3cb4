// Builds small `tune ingest`-format datasets in tests without running ingest: documents that
// walk a cycle of 16 tokens (100, 101, ..., 115, 100, ...) from a random phase, a pattern a
// tiny model with a rank-8 adapter learns within a few dozen steps.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace tune::testing {

struct FixtureDocument {
  std::vector<int32_t> tokens;
  std::vector<uint8_t> mask;
};

// Documents of lengths drawn from [min_len, max_len], deterministic in `seed`.
std::vector<FixtureDocument> CyclicDocuments(int count, int min_len, int max_len, uint64_t seed);

// Writes train/eval shards (one each) and manifest.json into `dir`.
void WriteDataset(const std::filesystem::path& dir, const std::vector<FixtureDocument>& train,
                  const std::vector<FixtureDocument>& eval, int32_t vocab_size = 512);

}  // namespace tune::testing
