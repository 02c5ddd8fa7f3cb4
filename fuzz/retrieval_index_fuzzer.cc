// Index::Read: retrieval.jsonl, the repository index `tune serve --index` loads. An accepted index
// must answer searches (hits inside the index, best first, at most k), write back and read back
// to the same files and chunks.
#include "fuzz/fuzz_target.h"
#include "retrieval/index.h"

TUNE_FUZZ_TARGET(retrieval_index) {
  const std::filesystem::path path = tune::fuzz::WriteInput("retrieval.jsonl", input);
  absl::StatusOr<tune::retrieval::Index> index = tune::retrieval::Index::Read(path);
  if (!index.ok()) return tune::fuzz::CheckError(index.status(), path.string());
  for (const tune::retrieval::IndexedFile& f : index->files()) {
    for (const tune::retrieval::IndexedChunk& c : f.chunks) {
      tune::retrieval::Query q = tune::retrieval::CursorQuery(c.text, "");
      q.k = 3;
      const std::vector<tune::retrieval::Hit> hits = index->Search(q);
      TUNE_FUZZ_CHECK(hits.size() <= 3);
      for (size_t i = 0; i < hits.size(); ++i) {
        TUNE_FUZZ_CHECK(hits[i].file < index->files().size() &&
                        hits[i].chunk < index->files()[hits[i].file].chunks.size());
        if (i > 0) TUNE_FUZZ_CHECK(hits[i].score <= hits[i - 1].score);
      }
      break;  // one search per file keeps an input's cost linear
    }
  }
  TUNE_FUZZ_CHECK(index->Write(path.parent_path()).ok());
  absl::StatusOr<tune::retrieval::Index> again = tune::retrieval::Index::Read(path);
  TUNE_FUZZ_CHECK(again.ok() && again->files().size() == index->files().size() &&
                  again->num_chunks() == index->num_chunks());
}
