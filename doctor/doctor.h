// `tune doctor` and `tune init`: what this machine and repository can do, and the commands to do it.
//
// Checks (each ok / warn / fail with a one-line detail): the build (tune version, CUDA or not,
// LibTorch and llama.cpp versions), the GPUs and their free memory, free disk space where the
// work will be written, the repository (a git repository with commits; its languages by file
// count at HEAD). Then a recommendation from the memory planner (doctor/memory_plan.h): the
// largest Qwen2.5-Coder that QLoRA-trains in the free memory of the first GPU, its LoRA rank,
// sequence length and serving quantization, and the exact commands; on a machine without a usable
// GPU, the embedded tiny default to try the loop and the 0.5B model for CPU-only work.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "doctor/memory_plan.h"

namespace tune::doctor {

struct Gpu {
  int index = 0;
  std::string name;
  double total_gb = 0, free_gb = 0;
};

// What the caller (the CLI, which links LibTorch and llama.cpp) knows about the build and GPUs.
struct Environment {
  std::string tune_version, libtorch_version, llama_cpp_version;
  bool cuda_build = false;
  std::vector<Gpu> gpus;
};

struct Check {
  std::string name;    // "build", "gpu", "disk", "repository"
  std::string status;  // "ok" | "warn" | "fail"
  std::string detail;
};

struct DoctorReport {
  std::vector<Check> checks;
  std::vector<std::pair<std::string, int64_t>> languages;  // most files first
  std::optional<Recommendation> recommendation;           // GPU plan; nullopt on CPU
  std::string preset;                                     // configs/<preset>.toml
  std::vector<std::string> commands;
  bool failed() const;
};

// repo: the repository to check; work: where datasets and runs will be written (disk check).
DoctorReport RunDoctor(const Environment& env, const std::filesystem::path& repo, const std::filesystem::path& work);

std::string FormatDoctor(const DoctorReport& report);

// The planner's estimates for every Qwen2.5-Coder size at 1k, 2k and 4k tokens (rank 16, batch 1),
// with the served GGUF sizes: `tune doctor --memory-table`, README's memory table.
std::string FormatMemoryTable();

// `tune init`: a commented tune.toml for the repository, from the report. AlreadyExists unless
// overwrite; the file is written atomically.
absl::Status WriteTuneToml(const DoctorReport& report, const std::filesystem::path& repo,
                           const std::filesystem::path& file, bool overwrite);

}  // namespace tune::doctor
