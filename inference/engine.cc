#include "inference/engine.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "inference/cache_reuse.h"
#include "inference/retrieved_context.h"
#include "inference/sampler.h"
#include "inference/stop_rules.h"
#include "llama.h"

namespace tune::inference {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// The training repository our exports record, so served prompts name it as training did.
constexpr char kTrainingRepoKey[] = "general.tune.training_data.repo";
constexpr int32_t kDefaultFimPredict = 128;  // FIM budget when a request leaves n_predict open

}  // namespace

// ---------------------------------------------------------------------------------------------
// CompletionStream

StreamEvent StreamEvent::Partial(PartialResult p) {
  StreamEvent e;
  e.partial = std::move(p);
  return e;
}

StreamEvent StreamEvent::Final(CompletionResult r) {
  StreamEvent e;
  e.kind = Kind::kFinal;
  e.final = std::move(r);
  return e;
}

StreamEvent StreamEvent::Error(absl::Status s) {
  StreamEvent e;
  e.kind = Kind::kError;
  e.error = std::move(s);
  return e;
}

std::optional<StreamEvent> CompletionStream::Next() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return !events_.empty() || remaining_ == 0 || failed_; });
  if (events_.empty()) return std::nullopt;
  StreamEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void CompletionStream::Push(StreamEvent event) {
  {
    std::lock_guard lock(mutex_);
    if (failed_ || remaining_ == 0) return;  // the stream already ended
    if (event.kind == StreamEvent::Kind::kFinal) --remaining_;
    if (event.kind == StreamEvent::Kind::kError) failed_ = true;
    events_.push_back(std::move(event));
  }
  ready_.notify_all();
}

// ---------------------------------------------------------------------------------------------
// Engine state

// One generation of the model: swapped whole by Reload.
struct Engine::Loaded {
  std::unique_ptr<LlamaModel> model;
  llama_context* ctx = nullptr;
  std::vector<LoraAdapter> loras;
  std::shared_ptr<const retrieval::Index> index;  // null without --index
  FimLayout layout;
  int32_t n_ctx_slot = 0;
  int32_t scratch_seq = -1;  // sequence that parks a cached tail during an edit, or -1
  llama_batch batch{};       // n_batch tokens, allocated once: each step refills it
  ~Loaded() {
    if (batch.token != nullptr) llama_batch_free(batch);
    if (ctx != nullptr) llama_free(ctx);
  }
};

// One completion of a request (a request with n_cmpl = 3 is three jobs).
struct Engine::Job {
  std::shared_ptr<const CompletionRequest> request;
  std::shared_ptr<CompletionStream> stream;
  int32_t index = 0;
  std::vector<float> lora_scales;  // effective adapter scales
  Timings retrieval;               // retrieved_n and retrieval_ms, set by Submit
};

struct Engine::Slot {
  int32_t id = 0;
  std::vector<int32_t> cache;           // tokens whose K/V sequence `id` holds, by position
  std::vector<size_t> pending;          // prompt positions still to compute (ascending)
  size_t pending_next = 0;
  std::optional<KvMove> parked_tail;    // cached tail in the scratch sequence, back after the edit
  std::vector<float> cache_lora_scales;  // the adapter scales they were computed with
  Clock::time_point last_used{};

  // The running job, if any.
  std::shared_ptr<Job> job;
  std::vector<int32_t> prompt;
  bool truncated = false;
  int32_t n_predict = 0;
  int32_t cache_n = 0;  // prompt tokens reused
  SamplerPtr sampler;
  std::optional<StopScanner> stop;
  std::vector<int32_t> generated;
  std::vector<int32_t> unsent_tokens;  // streaming: generated since the last partial
  std::optional<int32_t> next_token;    // sampled, to be decoded next step
  int32_t batch_index = -1;             // row of this step's logits, or -1
  Clock::time_point started, prompt_done;
  double prompt_ms = 0;
};

// ---------------------------------------------------------------------------------------------
// Start, load, stop

Engine::Engine(EngineOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Start(const EngineOptions& options) {
  if (options.n_slots < 1 || options.n_slots > 64) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--parallel %d: want 1..64 slots", options.n_slots));
  }
  if (options.n_batch < 32 || options.n_ubatch < 1 || options.n_ubatch > options.n_batch) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--batch-size %d / --ubatch-size %d: want batch >= 32 and 1 <= ubatch <= batch",
        options.n_batch, options.n_ubatch));
  }
  std::unique_ptr<Engine> engine(new Engine(options));
  TUNE_ASSIGN_OR_RETURN(engine->loaded_, LoadAll(options, options.loras));
  engine->current_ = engine->loaded_;
  for (const LoraAdapter& a : engine->loaded_->loras) engine->lora_scales_.push_back(a.scale);
  engine->slots_.resize(static_cast<size_t>(options.n_slots));
  for (int32_t i = 0; i < options.n_slots; ++i) engine->slots_[static_cast<size_t>(i)].id = i;
  engine->PublishSlots();
  engine->thread_ = std::thread([e = engine.get()] { e->Loop(); });
  return engine;
}

absl::StatusOr<std::shared_ptr<Engine::Loaded>> Engine::LoadAll(const EngineOptions& options,
                                                                const std::vector<LoraSpec>& loras) {
  auto loaded = std::make_shared<Loaded>();
  TUNE_ASSIGN_OR_RETURN(loaded->model, LlamaModel::Load(options.model));
  for (const LoraSpec& spec : loras) {
    TUNE_ASSIGN_OR_RETURN(LoraAdapter a, loaded->model->LoadLora(spec.path, spec.scale));
    loaded->loras.push_back(a);
  }
  const int32_t train_ctx = std::max(loaded->model->n_ctx_train(), 64);
  const int32_t n_ctx = options.n_ctx > 0 ? options.n_ctx : options.n_slots * std::min(train_ctx, 4096);
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(n_ctx);
  cp.n_batch = static_cast<uint32_t>(options.n_batch);
  cp.n_ubatch = static_cast<uint32_t>(options.n_ubatch);
  // One slot: one KV buffer shared with a scratch sequence that holds a cached tail aside while an
  // edit before it is computed (ReuseCache). Several slots: a buffer each (faster attention than
  // one shared buffer), and edits recompute what follows them, as llama.cpp.
  const bool scratch = options.n_slots == 1;
  cp.n_seq_max = static_cast<uint32_t>(scratch ? 2 : options.n_slots);
  const int32_t threads = options.n_threads > 0
                              ? options.n_threads
                              : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.kv_unified = scratch;
  cp.no_perf = true;
  loaded->ctx = llama_init_from_model(loaded->model->get(), cp);
  if (loaded->ctx == nullptr) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s: llama.cpp could not create a context of %d tokens for %d slots (out of memory?); "
        "hint: lower --ctx-size or --parallel",
        options.model.path.string(), n_ctx, options.n_slots));
  }
  loaded->n_ctx_slot = static_cast<int32_t>(llama_n_ctx_seq(loaded->ctx));
  loaded->scratch_seq = scratch ? 1 : -1;
  loaded->batch = llama_batch_init(options.n_batch, 0, 1);
  loaded->layout.spm = options.spm_infill;
  if (!options.index.empty()) {
    absl::StatusOr<retrieval::Index> index = retrieval::Index::Read(options.index);
    if (!index.ok()) return core::Annotate(index.status(), "--index");
    loaded->index = std::make_shared<const retrieval::Index>(std::move(*index));
  }
  if (!options.repo_name.empty()) {
    loaded->layout.repo_name = options.repo_name;
  } else if (std::optional<std::string> repo = loaded->model->Metadata(kTrainingRepoKey)) {
    loaded->layout.repo_name = *repo;
  }
  return loaded;
}

Engine::~Engine() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<Engine::Loaded> Engine::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

// ---------------------------------------------------------------------------------------------
// Public calls (any thread)

std::shared_ptr<CompletionStream> Engine::Submit(CompletionRequest request) {
  Timings retrieval;
  bool searched = false;
  if (request.kind == PromptKind::kInfill) {
    if (std::shared_ptr<const retrieval::Index> index = current()->index) {
      searched = true;
      const Clock::time_point start = Clock::now();
      retrieval.retrieved_n = AddRetrievedChunks(*index, options_.retrieval_chunks, request);
      retrieval.retrieval_ms = MsSince(start);
    }
  }
  const int32_t n = std::max(1, request.n_cmpl);
  auto stream = std::make_shared<CompletionStream>(n);
  auto shared_request = std::make_shared<const CompletionRequest>(std::move(request));
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    stream->Push(StreamEvent::Error(absl::UnavailableError("the server is shutting down")));
    return stream;
  }
  if (static_cast<int32_t>(queue_.size() + waiting_.size()) + n > options_.max_queue) {
    ++stats_.requests_failed;
    lock.unlock();
    stream->Push(StreamEvent::Error(absl::UnavailableError(absl::StrFormat(
        "%d requests are already waiting for a slot; try again (or start the server with more "
        "--parallel slots)",
        options_.max_queue))));
    return stream;
  }
  ++stats_.requests_total;
  if (searched) {
    ++stats_.retrieval_requests_total;
    stats_.retrieved_chunks_total += retrieval.retrieved_n;
    stats_.retrieval_seconds_total += retrieval.retrieval_ms / 1000.0;
  }
  std::vector<float> scales = lora_scales_;
  if (shared_request->lora) {  // as llama.cpp: adapters the request does not list are off
    std::fill(scales.begin(), scales.end(), 0.0f);
    for (const LoraScale& s : *shared_request->lora) {
      if (s.id >= 0 && static_cast<size_t>(s.id) < scales.size()) scales[static_cast<size_t>(s.id)] = s.scale;
    }
  }
  for (int32_t i = 0; i < n; ++i) {
    queue_.push_back(std::make_shared<Job>(Job{shared_request, stream, i, scales, retrieval}));
  }
  lock.unlock();
  work_.notify_all();
  return stream;
}

absl::StatusOr<std::vector<CompletionResult>> Engine::Run(CompletionRequest request) {
  std::shared_ptr<CompletionStream> stream = Submit(std::move(request));
  std::vector<CompletionResult> results;
  while (std::optional<StreamEvent> e = stream->Next()) {
    if (e->kind == StreamEvent::Kind::kError) return e->error;
    if (e->kind == StreamEvent::Kind::kFinal) results.push_back(std::move(e->final));
  }
  std::sort(results.begin(), results.end(),
            [](const CompletionResult& a, const CompletionResult& b) { return a.index < b.index; });
  return results;
}

std::vector<int32_t> Engine::Tokenize(const std::string& text, bool add_special,
                                      bool parse_special) const {
  std::shared_ptr<Loaded> l = current();
  std::vector<int32_t> ids;
  if (add_special) {
    if (std::optional<int32_t> bos = l->model->bos_to_add()) ids.push_back(*bos);
  }
  std::vector<int32_t> body = l->model->Tokenize(text, parse_special);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::string Engine::Piece(int32_t id) const { return current()->model->Piece(id); }

absl::StatusOr<std::string> Engine::Detokenize(const std::vector<int32_t>& ids) const {
  std::shared_ptr<Loaded> l = current();
  for (int32_t id : ids) {
    if (id < 0 || id >= l->model->size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "token id %d is outside the vocabulary (0..%d)", id, l->model->size() - 1));
    }
  }
  return l->model->Detokenize(ids);
}

std::vector<LoraInfo> Engine::Loras() const {
  std::lock_guard lock(mutex_);
  std::vector<LoraInfo> out;
  for (size_t i = 0; i < current_->loras.size(); ++i) {
    out.push_back({static_cast<int32_t>(i), current_->loras[i].path.string(), lora_scales_[i]});
  }
  return out;
}

absl::Status Engine::SetLoraScales(const std::vector<LoraScale>& scales) {
  std::lock_guard lock(mutex_);
  for (const LoraScale& s : scales) {
    if (s.id < 0 || static_cast<size_t>(s.id) >= lora_scales_.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "lora id %d: the server has %d adapter(s) (see GET /lora-adapters)", s.id,
          lora_scales_.size()));
    }
  }
  std::fill(lora_scales_.begin(), lora_scales_.end(), 0.0f);  // unlisted adapters: off
  for (const LoraScale& s : scales) lora_scales_[static_cast<size_t>(s.id)] = s.scale;
  return absl::OkStatus();
}

absl::Status Engine::Reload() {
  std::vector<LoraSpec> loras;
  for (const LoraInfo& l : Loras()) loras.push_back({l.path, l.scale});
  TUNE_ASSIGN_OR_RETURN(std::shared_ptr<Loaded> fresh, LoadAll(options_, loras));
  std::unique_lock lock(mutex_);
  if (stopping_) return absl::UnavailableError("the server is shutting down");
  const int64_t target = reloads_ + 1;
  pending_reload_ = std::move(fresh);
  work_.notify_all();
  reloaded_.wait(lock, [&] { return reloads_ >= target || stopping_; });
  return reloads_ >= target ? absl::OkStatus()
                            : absl::UnavailableError("the server stopped during the reload");
}

ModelInfo Engine::Info() const {
  std::shared_ptr<Loaded> l = current();
  ModelInfo info;
  info.path = l->model->path().string();
  info.description = l->model->Description();
  info.n_vocab = l->model->size();
  info.n_ctx_train = l->model->n_ctx_train();
  info.n_params = l->model->n_params();
  info.size_bytes = l->model->size_bytes();
  info.n_slots = options_.n_slots;
  info.n_ctx_slot = l->n_ctx_slot;
  info.n_batch = options_.n_batch;
  info.infill = l->model->fim().available();
  info.repo_name = l->layout.repo_name;
  if (l->index) {
    info.index_path = options_.index.string();
    info.index_chunks = static_cast<int64_t>(l->index->num_chunks());
  }
  std::lock_guard lock(mutex_);
  info.reloads = reloads_;
  return info;
}

std::vector<SlotInfo> Engine::Slots() const {
  std::lock_guard lock(mutex_);
  return slot_info_;
}

EngineStats Engine::Stats() const {
  std::lock_guard lock(mutex_);
  EngineStats s = stats_;
  s.requests_deferred = static_cast<int32_t>(queue_.size() + waiting_.size());
  return s;
}

// ---------------------------------------------------------------------------------------------
// Engine thread: wait, swap, admit, step

void Engine::Loop() {
  while (WaitForWork()) {
    ReleaseCancelled();
    SwapModelIfIdle();
    AdmitJobs();
    Step();
    PublishSlots();
  }
  // Shutting down: everything still queued or running ends with an error.
  const absl::Status bye = absl::UnavailableError("the server is shutting down");
  for (Slot& s : slots_) {
    if (s.job) Release(s, bye);
  }
  std::deque<std::shared_ptr<Job>> queued;
  {
    std::lock_guard lock(mutex_);
    queued.swap(queue_);
    reloaded_.notify_all();
  }
  for (auto& j : waiting_) FailJob(*j, bye);
  for (auto& j : queued) FailJob(*j, bye);
}

// Blocks while there is nothing to do; false when the engine stops. Moves queued jobs to the
// engine thread's own list.
bool Engine::WaitForWork() {
  const bool busy = std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.job != nullptr; });
  std::unique_lock lock(mutex_);
  if (!busy) {
    work_.wait(lock, [&] { return stopping_ || !queue_.empty() || pending_reload_ != nullptr || !waiting_.empty(); });
  }
  if (stopping_) return false;
  while (!queue_.empty()) {
    waiting_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return true;
}

void Engine::SwapModelIfIdle() {
  std::shared_ptr<Loaded> fresh;
  {
    std::lock_guard lock(mutex_);
    if (!pending_reload_) return;
    for (const Slot& s : slots_) {
      if (s.job) return;  // in-flight requests finish on the old model first
    }
    fresh = std::move(pending_reload_);
    current_ = fresh;
    ++reloads_;
  }
  loaded_ = std::move(fresh);  // frees the old model once no other thread holds it
  ctx_lora_scales_.clear();
  for (Slot& s : slots_) {
    s.cache.clear();
    s.cache_lora_scales.clear();
  }
  reloaded_.notify_all();
}

void Engine::AdmitJobs() {
  {
    std::lock_guard lock(mutex_);
    if (pending_reload_) return;  // new work waits for the new model
  }
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    Job& job = **it;
    if (job.stream->cancelled()) {
      FailJob(job, absl::CancelledError("the client went away"));
      it = waiting_.erase(it);
      continue;
    }
    if (job.request->id_slot >= options_.n_slots) {
      FailJob(job, absl::InvalidArgumentError(absl::StrFormat(
                       "id_slot %d: the server has %d slot(s) (--parallel)", job.request->id_slot,
                       options_.n_slots)));
      it = waiting_.erase(it);
      continue;
    }
    absl::StatusOr<std::vector<int32_t>> prompt = BuildPrompt(job);
    if (!prompt.ok()) {
      FailJob(job, prompt.status());
      it = waiting_.erase(it);
      continue;
    }
    Slot* slot = PickSlot(job, *prompt);
    if (slot == nullptr) {
      ++it;  // no free slot (or its pinned slot is busy): stays in order
      continue;
    }
    slot->prompt = std::move(*prompt);
    absl::Status started = StartJob(*slot, *it);
    if (!started.ok()) FailJob(job, started);
    it = waiting_.erase(it);
  }
}

absl::StatusOr<std::vector<int32_t>> Engine::BuildPrompt(Job& job) {
  const CompletionRequest& r = *job.request;
  const LlamaModel& m = *loaded_->model;
  std::vector<int32_t> prompt;
  if (r.kind == PromptKind::kInfill) {
    FimBudget budget{options_.n_batch, loaded_->n_ctx_slot,
                     r.n_predict >= 0 ? r.n_predict : kDefaultFimPredict};
    FimLayout layout = loaded_->layout;
    if (r.spm_infill) layout.spm = *r.spm_infill;
    TUNE_ASSIGN_OR_RETURN(FimPrompt fim, BuildFimPrompt(m, layout, budget, r));
    prompt = std::move(fim.tokens);
  } else if (r.kind == PromptKind::kText) {
    // Raw prompts are the client's own template: special-token spellings count (Continue).
    if (std::optional<int32_t> bos = m.bos_to_add()) prompt.push_back(*bos);
    std::vector<int32_t> body = m.Tokenize(r.prompt_text, /*parse_special=*/true);
    prompt.insert(prompt.end(), body.begin(), body.end());
  } else {
    prompt = r.prompt_tokens;
  }
  for (int32_t id : prompt) {
    if (id < 0 || id >= m.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "prompt contains token id %d, outside the model's vocabulary (0..%d)", id, m.size() - 1));
    }
  }
  if (prompt.empty()) return absl::InvalidArgumentError("the prompt is empty");
  return prompt;
}

// The pinned slot; else the idle slot whose cache shares the most with the prompt; else the
// least recently used idle slot.
Engine::Slot* Engine::PickSlot(const Job& job, const std::vector<int32_t>& prompt) {
  // The extra completions of an n_cmpl request take any slot: only the first is pinned.
  const int32_t pinned = job.index == 0 ? job.request->id_slot : -1;
  if (pinned >= 0) {
    Slot& s = slots_[static_cast<size_t>(pinned)];
    return s.job ? nullptr : &s;
  }
  Slot* best = nullptr;
  size_t best_common = 0;
  for (Slot& s : slots_) {
    if (s.job) continue;
    const size_t common = CommonPrefix(s.cache, prompt);
    if (best == nullptr || common > best_common ||
        (common == best_common && s.last_used < best->last_used)) {
      best = &s;
      best_common = common;
    }
  }
  return best;
}

absl::Status Engine::StartJob(Slot& slot, std::shared_ptr<Job> job) {
  const CompletionRequest& r = *job->request;
  const int32_t n_ctx = loaded_->n_ctx_slot;
  slot.n_predict = r.n_predict >= 0 ? r.n_predict : n_ctx;
  // Leave room to generate: a prompt longer than the slot keeps its end.
  const size_t max_prompt = static_cast<size_t>(MaxPromptTokens(n_ctx, slot.n_predict));
  slot.truncated = slot.prompt.size() > max_prompt;
  if (slot.truncated) slot.prompt.erase(slot.prompt.begin(), slot.prompt.end() - static_cast<ptrdiff_t>(max_prompt));
  slot.job = std::move(job);
  slot.started = Clock::now();
  slot.last_used = slot.started;
  slot.generated.clear();
  slot.unsent_tokens.clear();
  slot.next_token.reset();
  slot.stop.emplace(r);
  slot.sampler = MakeSampler(r.sampling, loaded_->model->vocab(), n_ctx);
  const int32_t remember = r.sampling.repeat_last_n < 0 ? n_ctx : r.sampling.repeat_last_n;
  for (size_t i = slot.prompt.size() - std::min(slot.prompt.size(), static_cast<size_t>(remember));
       i < slot.prompt.size(); ++i) {
    llama_sampler_accept(slot.sampler.get(), slot.prompt[i]);
  }
  ReuseCache(slot);
  std::lock_guard lock(mutex_);
  ++stats_.requests_processing;
  stats_.prompt_tokens_cached_total += slot.cache_n;
  return absl::OkStatus();
}

// Keeps what the slot's cache shares with the new prompt (inference/cache_reuse.h): stale K/V
// go first, then the kept chunks are shifted into place. `cache` then spells the prompt and
// `pending` lists the positions still to compute.
void Engine::ReuseCache(Slot& slot) {
  llama_memory_t mem = llama_get_memory(loaded_->ctx);
  const Job& job = *slot.job;
  const bool reusable = job.request->cache_prompt && slot.cache_lora_scales == job.lora_scales;
  const int32_t reuse_min =
      job.request->n_cache_reuse >= 0 ? job.request->n_cache_reuse : options_.n_cache_reuse;
  const bool can_shift = llama_memory_can_shift(mem);
  const int32_t scratch = loaded_->scratch_seq;
  CachePlan plan = PlanCacheReuse(slot.cache, slot.prompt, reusable,
                                  can_shift ? static_cast<size_t>(std::max(reuse_min, 0)) : 0,
                                  /*allow_tail=*/scratch >= 0);
  auto pos = [](size_t p) { return static_cast<llama_pos>(p); };
  const size_t last = slot.prompt.size() - 1;
  bool ok = true;
  size_t old_end = plan.keep_prefix;  // old cells below this are kept
  for (const KvMove& m : plan.moves) {
    ok = ok && llama_memory_seq_rm(mem, slot.id, pos(old_end), pos(m.from));
    old_end = m.from + m.n;
  }
  ok = ok && llama_memory_seq_rm(mem, slot.id, pos(old_end), -1);
  if (ok && plan.tail && plan.evaluate.size() > 1) {
    // The edit goes in below the tail: park the tail until the edit is computed.
    const KvMove& m = plan.moves.front();
    llama_memory_seq_cp(mem, slot.id, scratch, pos(m.from), pos(m.from + m.n));
    ok = llama_memory_seq_rm(mem, slot.id, pos(m.from), pos(m.from + m.n));
    slot.parked_tail = m;
  } else {
    for (const KvMove& m : plan.moves) {  // chunks move down in ascending order: none lands on another
      llama_memory_seq_add(mem, slot.id, pos(m.from), pos(m.from + m.n), pos(m.to) - pos(m.from));
    }
    ok = ok && llama_memory_seq_rm(mem, slot.id, pos(last), pos(last + 1));  // recomputed for its logits
  }
  if (!ok) {  // a cache that cannot be cut (SWA, recurrent): start over
    llama_memory_seq_rm(mem, slot.id, -1, -1);
    if (scratch >= 0) llama_memory_seq_rm(mem, scratch, -1, -1);
    slot.parked_tail.reset();
    plan = PlanCacheReuse({}, slot.prompt, false, 0);
  }
  slot.cache = slot.prompt;
  slot.pending = std::move(plan.evaluate);
  slot.pending_next = 0;
  slot.cache_lora_scales = job.lora_scales;
  slot.cache_n = static_cast<int32_t>(slot.prompt.size() - slot.pending.size());
}

// The edit before the parked tail is computed: the tail moves to its new positions and back into
// the slot; the last prompt token is computed again for its logits.
void Engine::UnparkTail(Slot& slot) {
  llama_memory_t mem = llama_get_memory(loaded_->ctx);
  const KvMove m = *slot.parked_tail;
  const int32_t scratch = loaded_->scratch_seq;
  auto pos = [](size_t p) { return static_cast<llama_pos>(p); };
  llama_memory_seq_add(mem, scratch, pos(m.from), pos(m.from + m.n), pos(m.to) - pos(m.from));
  llama_memory_seq_cp(mem, scratch, slot.id, pos(m.to), pos(m.to + m.n));
  llama_memory_seq_rm(mem, scratch, -1, -1);
  const size_t last = slot.prompt.size() - 1;
  llama_memory_seq_rm(mem, slot.id, pos(last), pos(last + 1));
  slot.parked_tail.reset();
}

// One llama_decode over every busy slot that shares the adapter scales of the first one in
// round-robin order: a generated token for each generating slot, then prompt chunks.
void Engine::Step() {
  std::vector<Slot*> group;
  for (size_t k = 0; k < slots_.size(); ++k) {
    Slot& s = slots_[(round_robin_ + k) % slots_.size()];
    if (!s.job) continue;
    if (!group.empty() && s.job->lora_scales != group.front()->job->lora_scales) continue;
    group.push_back(&s);
  }
  round_robin_ = (round_robin_ + 1) % slots_.size();
  if (group.empty()) return;
  if (group.front()->job->lora_scales != ctx_lora_scales_) {
    std::vector<llama_adapter_lora*> adapters;
    for (const LoraAdapter& a : loaded_->loras) adapters.push_back(a.handle);
    std::vector<float> scales = group.front()->job->lora_scales;
    llama_set_adapters_lora(loaded_->ctx, adapters.data(), adapters.size(), scales.data());
    ctx_lora_scales_ = scales;
  }
  const int32_t capacity = options_.n_batch;
  llama_batch& batch = loaded_->batch;
  batch.n_tokens = 0;
  auto add = [&](Slot& s, int32_t token, size_t pos, bool logits) {
    const int32_t i = batch.n_tokens++;
    batch.token[i] = token;
    batch.pos[i] = static_cast<llama_pos>(pos);
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = s.id;
    batch.logits[i] = logits;
    if (logits) s.batch_index = i;
  };
  for (Slot* s : group) {
    s->batch_index = -1;
    if (s->next_token && batch.n_tokens < capacity) {
      add(*s, *s->next_token, s->cache.size(), true);
      s->cache.push_back(*s->next_token);
    }
  }
  for (Slot* s : group) {
    bool added = false;
    while (s->pending_next < s->pending.size() && batch.n_tokens < capacity) {
      if (s->parked_tail && s->pending_next + 1 == s->pending.size()) {
        if (added) break;  // the edit must be in the cache before its tail returns
        UnparkTail(*s);
      }
      const size_t pos = s->pending[s->pending_next++];
      add(*s, s->cache[pos], pos, s->pending_next == s->pending.size());
      added = true;
    }
  }
  const int32_t rc = batch.n_tokens > 0 ? llama_decode(loaded_->ctx, batch) : 0;
  if (rc != 0) {
    const absl::Status error = rc == 1 ? absl::ResourceExhaustedError("the KV cache is full; hint: raise --ctx-size")
                                       : absl::InternalError(absl::StrFormat("llama_decode failed (%d)", rc));
    for (Slot* s : group) {
      llama_memory_seq_rm(llama_get_memory(loaded_->ctx), s->id, -1, -1);
      s->cache.clear();
      s->pending.clear();
      Release(*s, error);
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    ++stats_.decode_calls_total;
    stats_.decode_slots_total += static_cast<int64_t>(group.size());
  }
  for (Slot* s : group) {
    if (s->batch_index < 0) continue;
    if (!s->next_token) {  // the prompt's last token: prompt done
      s->prompt_ms = MsSince(s->started);
      s->prompt_done = Clock::now();
    }
    SampleAndEmit(*s, s->batch_index);
  }
}

void Engine::SampleAndEmit(Slot& slot, int32_t batch_index) {
  const CompletionRequest& r = *slot.job->request;
  StopScanner& stop = *slot.stop;
  const LlamaModel& m = *loaded_->model;
  if (slot.n_predict == 0) {  // only fill the cache (clients' warm-up requests)
    stop.Finish(StopType::kLimit);
    Finish(slot);
    return;
  }
  const int32_t id = llama_sampler_sample(slot.sampler.get(), loaded_->ctx, batch_index);
  slot.generated.push_back(id);
  slot.unsent_tokens.push_back(id);
  const bool eog = !r.ignore_eos && m.IsEndOfGeneration(id);
  const bool context_full = static_cast<int32_t>(slot.cache.size()) + 1 >= loaded_->n_ctx_slot;
  stop.Step(eog, eog ? std::string() : m.Piece(id),
            static_cast<int32_t>(slot.generated.size()) >= slot.n_predict || context_full,
            MsSince(slot.prompt_done));
  if (r.stream) {
    std::string text = stop.TakeSettled();
    if (!text.empty()) {
      PartialResult p;
      p.index = slot.job->index;
      p.content = std::move(text);
      p.tokens.swap(slot.unsent_tokens);
      p.tokens_predicted = static_cast<int32_t>(slot.generated.size());
      p.tokens_evaluated = static_cast<int32_t>(slot.prompt.size());
      p.id_slot = slot.id;
      slot.job->stream->Push(StreamEvent::Partial(std::move(p)));
    }
  }
  if (stop.stopped()) {
    Finish(slot);
  } else {
    slot.next_token = id;
  }
}

void Engine::Finish(Slot& slot) {
  const CompletionRequest& r = *slot.job->request;
  const StopScanner& stop = *slot.stop;
  CompletionResult res;
  res.index = slot.job->index;
  res.content = stop.text();
  if (r.return_tokens || r.stream) res.tokens = slot.generated;
  res.id_slot = slot.id;
  res.stop_type = stop.stop_type();
  res.stopping_word = stop.stopping_word();
  res.tokens_predicted = static_cast<int32_t>(slot.generated.size());
  res.tokens_evaluated = static_cast<int32_t>(slot.prompt.size());
  res.tokens_cached = static_cast<int32_t>(slot.cache.size());
  res.truncated = slot.truncated;
  res.has_new_line = stop.has_new_line();
  const bool wants_prompt = r.response_fields.empty() ||
                            std::find(r.response_fields.begin(), r.response_fields.end(), "prompt") !=
                                r.response_fields.end();
  if (wants_prompt) res.prompt = loaded_->model->Detokenize(slot.prompt);
  res.timings.cache_n = slot.cache_n;
  res.timings.prompt_n = static_cast<int32_t>(slot.pending.size());
  res.timings.prompt_ms = slot.prompt_ms;
  res.timings.predicted_n = res.tokens_predicted;
  res.timings.predicted_ms = slot.n_predict == 0 ? 0.0 : MsSince(slot.prompt_done);
  res.timings.retrieved_n = slot.job->retrieval.retrieved_n;
  res.timings.retrieval_ms = slot.job->retrieval.retrieval_ms;
  {
    std::lock_guard lock(mutex_);
    --stats_.requests_processing;
    stats_.prompt_tokens_total += res.timings.prompt_n;
    stats_.prompt_seconds_total += res.timings.prompt_ms / 1000.0;
    stats_.tokens_predicted_total += res.tokens_predicted;
    stats_.predicted_seconds_total += res.timings.predicted_ms / 1000.0;
  }
  slot.job->stream->Push(StreamEvent::Final(std::move(res)));
  slot.job.reset();
  slot.next_token.reset();
  slot.sampler.reset();
  slot.last_used = Clock::now();
}

void Engine::FailJob(Job& job, const absl::Status& status) {
  {
    std::lock_guard lock(mutex_);
    if (absl::IsCancelled(status)) {
      ++stats_.requests_cancelled;
    } else {
      ++stats_.requests_failed;
    }
  }
  job.stream->Push(StreamEvent::Error(status));
}

// Slots whose client went away stop now; what they evaluated stays cached.
void Engine::ReleaseCancelled() {
  for (Slot& s : slots_) {
    if (!s.job || !s.job->stream->cancelled()) continue;
    Release(s, absl::CancelledError("the client went away"));
  }
}

// Ends the slot's job with an error; the cache keeps what was evaluated (the last sampled token
// never was).
void Engine::Release(Slot& slot, const absl::Status& status) {
  if (slot.parked_tail) {
    llama_memory_seq_rm(llama_get_memory(loaded_->ctx), loaded_->scratch_seq, -1, -1);
    slot.parked_tail.reset();
  }
  if (slot.pending_next < slot.pending.size()) {  // stopped inside the prompt: drop the uncomputed
    const size_t first_missing = slot.pending[slot.pending_next];
    llama_memory_seq_rm(llama_get_memory(loaded_->ctx), slot.id, static_cast<llama_pos>(first_missing), -1);
    slot.cache.resize(first_missing);
    slot.pending.clear();
  }
  FailJob(*slot.job, status);
  {
    std::lock_guard lock(mutex_);
    --stats_.requests_processing;
  }
  slot.job.reset();
  slot.next_token.reset();
  slot.sampler.reset();
  slot.last_used = Clock::now();
}

void Engine::PublishSlots() {
  std::vector<SlotInfo> info;
  for (const Slot& s : slots_) {
    info.push_back({s.id, s.job != nullptr, loaded_->n_ctx_slot, static_cast<int32_t>(s.cache.size())});
  }
  std::lock_guard lock(mutex_);
  slot_info_ = std::move(info);
}

}  // namespace tune::inference
