#include "tests/train/dataset_fixture.h"

#include <gtest/gtest.h>

#include "core/file.h"
#include "data/dataset.h"
#include "data/shard.h"

namespace tune::testing {

std::vector<FixtureDocument> CyclicDocuments(int count, int min_len, int max_len, uint64_t seed) {
  std::vector<FixtureDocument> docs;
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  for (int d = 0; d < count; ++d) {
    FixtureDocument doc;
    const int len = min_len + static_cast<int>(next() % static_cast<uint32_t>(max_len - min_len + 1));
    const int phase = static_cast<int>(next() % 16);
    for (int i = 0; i < len; ++i) {
      doc.tokens.push_back(100 + (phase + i) % 16);
      doc.mask.push_back(1);
    }
    docs.push_back(std::move(doc));
  }
  return docs;
}

void WriteDataset(const std::filesystem::path& dir, const std::vector<FixtureDocument>& train,
                  const std::vector<FixtureDocument>& eval, int32_t vocab_size) {
  std::filesystem::create_directories(dir);
  data::DatasetManifest manifest;
  manifest.vocab_size = vocab_size;
  manifest.repo = "fixture";
  manifest.config_json = "{}";
  for (const auto& [split, docs] : {std::pair{"train", &train}, std::pair{"eval", &eval}}) {
    if (docs->empty()) continue;
    std::string file = std::string(split) + "-00000.tshard";
    auto writer = data::ShardWriter::Create(dir / file, static_cast<uint32_t>(vocab_size));
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (const FixtureDocument& d : *docs) ASSERT_TRUE(writer->AddDocument(d.tokens, d.mask).ok());
    const uint64_t tokens = writer->num_tokens(), documents = writer->num_documents();
    auto checksum = writer->Finish();
    ASSERT_TRUE(checksum.ok()) << checksum.status();
    manifest.shards.push_back({file, split, tokens, documents, *checksum});
  }
  ASSERT_TRUE(core::WriteFileAtomic(dir / "manifest.json", data::ManifestToJson(manifest)).ok());
}

}  // namespace tune::testing
