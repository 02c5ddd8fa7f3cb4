// The runner behind `tune serve` and `tune complete`: one GGUF model (plus GGUF LoRA adapters) in
// llama.cpp, N slots sharing one KV cache (one sequence each), and one thread that batches the
// decode steps of every busy slot into a single llama_decode (continuous batching).
//
// Prompt cache: a slot keeps the tokens whose K/V it holds. A new request reuses the longest
// common prefix with them and, past it, runs of >= n_cache_reuse tokens moved to their new
// positions with a RoPE shift instead of recomputed (inference/cache_reuse.h): llama.cpp's
// --cache-reuse chunks (an evicted ring-buffer chunk, a deleted line) and, on a one-slot server,
// the tail after an edit in the middle, so an IDE request computes only the changed tokens.
//
// Requests wait in a FIFO queue (at most max_queue) for a free slot; one pinned to a slot by
// id_slot waits for that slot. Reload() loads the files again beside the running model, lets the
// requests in flight finish on the old one, holds new ones, then swaps: no request is dropped.
//
// Retrieval (EngineOptions::index): Submit adds the index's chunks to an /infill request on the
// caller's thread, before it queues, so a search never holds up the decode loop.
//
// Memory: the model, plus the KV cache of n_ctx tokens (all slots), plus llama.cpp's compute
// buffers for n_ubatch tokens, plus the retrieval index; twice that during a Reload.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/fim_prompt.h"
#include "inference/llama_model.h"
#include "inference/request.h"

namespace tune::inference {

struct LoraSpec {
  std::filesystem::path path;
  float scale = 1.0f;
};

struct EngineOptions {
  ModelLoadOptions model;
  std::vector<LoraSpec> loras;
  int32_t n_slots = 1;
  int32_t n_ctx = 0;        // KV cache tokens over all slots; 0 = n_slots * min(train ctx, 4096)
  int32_t n_batch = 1024;   // tokens per llama_decode; also the FIM prefix/suffix budget
  int32_t n_ubatch = 512;   // tokens per compute pass
  int32_t n_threads = 0;    // 0 = all cores
  int32_t n_cache_reuse = 256;  // min chunk moved by KV shift; 0 = prefix reuse only
  int32_t max_queue = 64;       // requests waiting for a slot beyond this are refused (503)
  std::string repo_name;        // FIM repo context; empty = the GGUF's training repo, else "myproject"
  bool spm_infill = false;
  // Repository index (a `tune ingest` dataset directory or its retrieval.jsonl): /infill requests
  // get its chunks for the code around the cursor (inference/retrieved_context.h). Reloaded with
  // the model. Empty: none.
  std::filesystem::path index;
  int32_t retrieval_chunks = 4;
};

// One event of a submitted request, in order: partials (streaming only), then one final per
// completion, or one error that ends the stream.
struct StreamEvent {
  enum class Kind { kPartial, kFinal, kError };
  Kind kind = Kind::kPartial;
  PartialResult partial;
  CompletionResult final;
  absl::Status error;

  static StreamEvent Partial(PartialResult p);
  static StreamEvent Final(CompletionResult r);
  static StreamEvent Error(absl::Status s);
};

// The receiving end of a request; thread-safe.
class CompletionStream {
 public:
  explicit CompletionStream(int32_t n_completions) : remaining_(n_completions) {}
  // Blocks for the next event; std::nullopt once every completion has ended.
  std::optional<StreamEvent> Next();
  // The client went away: its slots stop at the next decode step.
  void Cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }

  // Engine side.
  void Push(StreamEvent event);

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<StreamEvent> events_;
  int32_t remaining_;
  bool failed_ = false;
  std::atomic<bool> cancelled_{false};
};

struct LoraInfo {
  int32_t id = 0;
  std::string path;
  float scale = 1.0f;
};

struct ModelInfo {
  std::string path;
  std::string description;  // "qwen2 ?B Q8_0"
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;
  int64_t n_params = 0;
  uint64_t size_bytes = 0;
  int32_t n_slots = 0;
  int32_t n_ctx_slot = 0;
  int32_t n_batch = 0;
  bool infill = false;      // the vocabulary has FIM tokens
  std::string repo_name;    // used in FIM repo context
  int64_t reloads = 0;
  std::string index_path;   // the retrieval index, empty without one
  int64_t index_chunks = 0;
};

struct SlotInfo {
  int32_t id = 0;
  bool busy = false;
  int32_t n_ctx = 0;
  int32_t tokens_cached = 0;
};

// Monotonic counters for /metrics (Prometheus).
struct EngineStats {
  int64_t requests_total = 0;
  int64_t requests_cancelled = 0;
  int64_t requests_failed = 0;
  int64_t prompt_tokens_total = 0;     // evaluated
  int64_t prompt_tokens_cached_total = 0;  // reused from a slot's cache
  double prompt_seconds_total = 0;
  int64_t tokens_predicted_total = 0;
  double predicted_seconds_total = 0;
  int64_t decode_calls_total = 0;
  int64_t decode_slots_total = 0;      // busy slots summed over decode calls
  int32_t requests_processing = 0;
  int32_t requests_deferred = 0;       // waiting for a slot
  int64_t retrieval_requests_total = 0;  // /infill requests searched in the index
  int64_t retrieved_chunks_total = 0;
  double retrieval_seconds_total = 0;
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Start(const EngineOptions& options);
  ~Engine();  // fails queued and running requests with Unavailable, then frees the model
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request (its n_cmpl completions); events arrive on the returned stream. Requests
  // over the queue limit, token ids outside the vocabulary, infill on a model without FIM
  // tokens... end as an error event.
  std::shared_ptr<CompletionStream> Submit(CompletionRequest request);
  // Submit and wait: the finals in completion order, or the error.
  absl::StatusOr<std::vector<CompletionResult>> Run(CompletionRequest request);

  // Vocabulary of the current model (any thread).
  std::vector<int32_t> Tokenize(const std::string& text, bool add_special, bool parse_special) const;
  std::string Piece(int32_t id) const;
  absl::StatusOr<std::string> Detokenize(const std::vector<int32_t>& ids) const;

  std::vector<LoraInfo> Loras() const;
  // Server-wide adapter scales (ids from Loras()); requests without `lora` use them.
  absl::Status SetLoraScales(const std::vector<LoraScale>& scales);

  // Loads the model and adapter files again from their paths (an atomic swap by `tune retrain`
  // or a user) and switches to them once the requests in flight are done. Blocks until then.
  // On error the old model keeps serving.
  absl::Status Reload();

  ModelInfo Info() const;
  std::vector<SlotInfo> Slots() const;
  EngineStats Stats() const;

 private:
  struct Loaded;
  struct Job;
  struct Slot;
  explicit Engine(EngineOptions options);
  static absl::StatusOr<std::shared_ptr<Loaded>> LoadAll(const EngineOptions& options,
                                                         const std::vector<LoraSpec>& loras);

  // Engine thread.
  void Loop();
  bool WaitForWork();
  void SwapModelIfIdle();
  void AdmitJobs();
  absl::Status StartJob(Slot& slot, std::shared_ptr<Job> job);
  absl::StatusOr<std::vector<int32_t>> BuildPrompt(Job& job);
  Slot* PickSlot(const Job& job, const std::vector<int32_t>& prompt);
  void ReuseCache(Slot& slot);
  void UnparkTail(Slot& slot);
  void Step();
  void SampleAndEmit(Slot& slot, int32_t batch_index);
  void Finish(Slot& slot);
  void FailJob(Job& job, const absl::Status& status);
  void Release(Slot& slot, const absl::Status& status);
  void ReleaseCancelled();
  void PublishSlots();

  std::shared_ptr<Loaded> current() const;

  EngineOptions options_;
  std::vector<Slot> slots_;
  std::shared_ptr<Loaded> loaded_;  // engine thread's view; current_ for other threads
  std::vector<float> ctx_lora_scales_;  // adapter scales set on the context now
  size_t round_robin_ = 0;
  std::deque<std::shared_ptr<Job>> waiting_;  // engine thread: admitted from queue_, no slot yet

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable work_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::shared_ptr<Loaded> current_;
  std::vector<float> lora_scales_;
  std::shared_ptr<Loaded> pending_reload_;
  std::condition_variable reloaded_;
  int64_t reloads_ = 0;
  bool stopping_ = false;
  EngineStats stats_;
  std::vector<SlotInfo> slot_info_;
  std::thread thread_;
};

}  // namespace tune::inference
