// Turns the token shards of a `tune ingest` dataset into packed training batches.
//
// Documents are visited in a seeded order (reshuffled each epoch) and packed greedily into rows
// of seq_len tokens; a document longer than the room left is continued in the next row as a
// new segment. Each row carries segment ids and per-document positions, so attention never
// crosses a document boundary (see Transformer::HiddenPacked) and positions restart at 0 for
// each document. A token is a target only if the shard's loss mask says so and it follows a
// token of the same segment.
//
// Micro-batches form one global stream; with W data-parallel processes, process r takes
// micro-batches r, r+W, r+2W, ..., so W processes with accumulation k see exactly the batches
// of one process with accumulation k*W.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/shard.h"

namespace tune::train {

struct Batch {
  at::Tensor ids;        // (B, T) int64; padding is token 0
  at::Tensor positions;  // (B, T) int64, restarting at 0 in each segment
  at::Tensor segments;   // (B, T) int64; padding gets segment -1
  at::Tensor labels;     // (B, T) int64: the token to predict at each position, -100 if none
  int64_t targets = 0;   // number of labels != -100
};

// The batch's tensors on `device` (the batcher builds them in host memory).
Batch ToDevice(Batch b, at::Device device);

// Where the stream is: enough to resume it exactly.
struct BatcherPosition {
  int64_t epoch = 0;
  int64_t document = 0;  // index into this epoch's order
  int64_t offset = 0;    // tokens of that document already emitted
  int64_t micro_batch = 0;  // global micro-batch counter
};

class Batcher {
 public:
  // Opens every shard of `split` ("train" or "eval") listed in <dataset>/manifest.json.
  // shuffle=false keeps manifest order (evaluation). NotFound / DataLoss from the dataset;
  // FailedPrecondition if the split has no tokens.
  static absl::StatusOr<Batcher> Open(const std::filesystem::path& dataset, const std::string& split,
                                      int64_t batch_size, int64_t seq_len, uint64_t seed, bool shuffle);

  // The next micro-batch of the global stream.
  Batch Next();
  // The next micro-batch that belongs to process `rank` of `world` (skipping the others').
  Batch NextFor(int rank, int world);

  const BatcherPosition& position() const { return position_; }
  void Seek(const BatcherPosition& position);
  int32_t vocab_size() const { return vocab_size_; }
  int64_t num_documents() const { return static_cast<int64_t>(documents_.size()); }

 private:
  struct Document {
    const data::ShardReader* shard;
    uint64_t index;
  };
  void Reorder();
  // Fills one row; returns its target count.
  int64_t FillRow(int64_t* ids, int64_t* pos, int64_t* seg, int64_t* labels);

  std::vector<std::unique_ptr<data::ShardReader>> shards_;
  std::vector<Document> documents_;
  std::vector<int64_t> order_;
  int64_t batch_size_ = 1;
  int64_t seq_len_ = 2;
  uint64_t seed_ = 0;
  bool shuffle_ = true;
  int32_t vocab_size_ = 0;
  BatcherPosition position_;
};

}  // namespace tune::train
