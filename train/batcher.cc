#include "train/batcher.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "data/dataset.h"

namespace tune::train {

Batch ToDevice(Batch b, at::Device device) {
  for (at::Tensor* t : {&b.ids, &b.positions, &b.segments, &b.labels}) *t = t->to(device);
  return b;
}
namespace {

// splitmix64: a fixed generator, so data order is the same on every platform and library.
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

absl::StatusOr<Batcher> Batcher::Open(const std::filesystem::path& dataset, const std::string& split,
                                      int64_t batch_size, int64_t seq_len, uint64_t seed,
                                      bool shuffle) {
  TUNE_ASSIGN_OR_RETURN(data::DatasetManifest manifest, data::ReadManifest(dataset));
  Batcher b;
  b.batch_size_ = batch_size;
  b.seq_len_ = seq_len;
  b.seed_ = seed;
  b.shuffle_ = shuffle;
  b.vocab_size_ = manifest.vocab_size;
  for (const data::ShardInfo& info : manifest.shards) {
    if (info.split != split) continue;
    TUNE_ASSIGN_OR_RETURN(data::ShardReader reader, data::ShardReader::Open(dataset / info.file));
    b.shards_.push_back(std::make_unique<data::ShardReader>(std::move(reader)));
    const data::ShardReader* shard = b.shards_.back().get();
    for (uint64_t d = 0; d < shard->num_documents(); ++d) {
      if (shard->document_tokens(d).size() >= 2) b.documents_.push_back({shard, d});
    }
  }
  if (b.documents_.empty()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the %s split has no documents of 2 or more tokens; hint: ingest a larger repository "
        "or lower ingest.eval_fraction",
        dataset.string(), split));
  }
  b.Reorder();
  return b;
}

void Batcher::Reorder() {
  order_.resize(documents_.size());
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int64_t>(i);
  if (!shuffle_) return;
  uint64_t state = seed_ * 0x100000001b3ull + static_cast<uint64_t>(position_.epoch);
  for (size_t i = order_.size() - 1; i > 0; --i) {
    std::swap(order_[i], order_[SplitMix(state) % (i + 1)]);
  }
}

void Batcher::Seek(const BatcherPosition& position) {
  position_ = position;
  Reorder();
}

int64_t Batcher::FillRow(int64_t* ids, int64_t* pos, int64_t* seg, int64_t* labels) {
  int64_t t = 0, targets = 0, segment = 0;
  while (t < seq_len_) {
    const Document& doc = documents_[static_cast<size_t>(order_[static_cast<size_t>(position_.document)])];
    std::span<const int32_t> tokens = doc.shard->document_tokens(doc.index);
    std::span<const uint8_t> mask = doc.shard->document_mask(doc.index);
    const int64_t begin = position_.offset;
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(tokens.size()) - begin, seq_len_ - t);
    for (int64_t i = 0; i < n; ++i) {
      ids[t + i] = tokens[begin + i];
      pos[t + i] = i;
      seg[t + i] = segment;
      const bool has_next = i + 1 < n;
      labels[t + i] = has_next && mask[begin + i + 1] ? tokens[begin + i + 1] : -100;
      targets += labels[t + i] != -100;
    }
    t += n;
    ++segment;
    position_.offset += n;
    if (position_.offset >= static_cast<int64_t>(tokens.size())) {
      position_.offset = 0;
      if (++position_.document == static_cast<int64_t>(order_.size())) {
        position_.document = 0;
        ++position_.epoch;
        Reorder();
      }
    }
    // A one-token remainder cannot hold a target: pad instead of starting a segment there.
    if (seq_len_ - t < 2) break;
  }
  for (; t < seq_len_; ++t) {
    ids[t] = 0;
    pos[t] = 0;
    seg[t] = -1;
    labels[t] = -100;
  }
  return targets;
}

Batch Batcher::Next() {
  Batch b;
  b.ids = at::empty({batch_size_, seq_len_}, at::kLong);
  b.positions = at::empty({batch_size_, seq_len_}, at::kLong);
  b.segments = at::empty({batch_size_, seq_len_}, at::kLong);
  b.labels = at::empty({batch_size_, seq_len_}, at::kLong);
  for (int64_t r = 0; r < batch_size_; ++r) {
    const int64_t o = r * seq_len_;
    b.targets += FillRow(b.ids.data_ptr<int64_t>() + o, b.positions.data_ptr<int64_t>() + o,
                         b.segments.data_ptr<int64_t>() + o, b.labels.data_ptr<int64_t>() + o);
  }
  ++position_.micro_batch;
  return b;
}

Batch Batcher::NextFor(int rank, int world) {
  while (position_.micro_batch % world != rank) Next();
  return Next();
}

}  // namespace tune::train
