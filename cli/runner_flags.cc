#include "cli/runner_flags.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace tune::cli {

void AddRunnerFlags(CLI::App* cmd, RunnerFlags& f, bool server) {
  inference::EngineOptions& e = f.engine;
  cmd->add_option("--model", f.model, "GGUF model (from `tune export`, or any llama.cpp GGUF)")->required();
  cmd->add_option("--lora", f.loras,
                  "GGUF LoRA adapter applied at run time, F.gguf or F.gguf:SCALE (repeatable; from "
                  "`tune export --adapter-only`)");
  cmd->add_option("--ctx-size", e.n_ctx, "KV cache tokens over all slots (0: slots x min(train ctx, 4096))")
      ->capture_default_str();
  cmd->add_option("--batch-size", e.n_batch,
                  "tokens per decode call; FIM prompts keep 3/4 of it of prefix, 1/4 of suffix")
      ->capture_default_str();
  cmd->add_option("--ubatch-size", e.n_ubatch, "tokens per compute pass")->capture_default_str();
  cmd->add_option("--threads", e.n_threads, "CPU threads (0: all cores)")->capture_default_str();
  cmd->add_option("--n-gpu-layers", e.model.n_gpu_layers,
                  "layers on the GPU in a CUDA build (-1: all, 0: none); ignored by the CPU build")
      ->capture_default_str();
  cmd->add_option("--repo-name", e.repo_name,
                  "repository name in FIM repo context (default: the one the GGUF was trained on, "
                  "else \"myproject\" as llama.cpp)");
  cmd->add_flag("--spm-infill", e.spm_infill, "suffix-prefix-middle FIM order instead of prefix-suffix-middle");
  cmd->add_option("--index", e.index,
                  "repository index for infill requests: a `tune ingest` dataset directory (its "
                  "retrieval.jsonl); reloaded with the model");
  cmd->add_option("--retrieval-chunks", e.retrieval_chunks, "index chunks added to each infill prompt")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  if (!server) return;
  cmd->add_option("--parallel", e.n_slots, "slots: requests decoded together (continuous batching)")
      ->capture_default_str();
  cmd->add_option("--cache-reuse", e.n_cache_reuse,
                  "min tokens of a cached chunk reused by KV shift after an edit (0: prefix only)")
      ->capture_default_str();
  cmd->add_option("--max-queue", e.max_queue, "requests waiting for a slot before new ones get 503")
      ->capture_default_str();
}

absl::StatusOr<inference::EngineOptions> RunnerOptions(const RunnerFlags& f) {
  inference::EngineOptions e = f.engine;
  e.model.path = f.model;
  for (const std::string& spec : f.loras) {
    inference::LoraSpec lora{spec, 1.0f};
    // F.gguf:0.5 -> a scale; a ':' that is not followed by a number belongs to the path.
    if (size_t colon = spec.rfind(':'); colon != std::string::npos) {
      float scale = 0;
      if (absl::SimpleAtof(spec.substr(colon + 1), &scale)) {
        lora = {spec.substr(0, colon), scale};
      } else if (spec.ends_with(":")) {
        return absl::InvalidArgumentError(absl::StrFormat("--lora %s: want F.gguf or F.gguf:SCALE", spec));
      }
    }
    e.loras.push_back(lora);
  }
  return e;
}

}  // namespace tune::cli
