// `tune doctor` (what this machine and repository can do) and `tune init` (a tune.toml for them):
// doctor/doctor.h. This file gathers what only the binary knows: versions and GPUs.
#include <torch/version.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/status.h"
#include "doctor/doctor.h"
#include "inference/llama_model.h"
#include "model/device.h"

namespace tune::cli {
namespace {

struct DoctorFlags {
  std::string repo = ".", work = ".", out = "tune.toml";
  bool force = false;
  bool memory_table = false;
};

doctor::Environment Environment() {
  doctor::Environment env;
  env.tune_version = TUNE_VERSION;
  env.libtorch_version = TORCH_VERSION;
  env.llama_cpp_version = inference::LlamaCppVersion();
  env.cuda_build = model::CudaBuild();
  for (const model::GpuInfo& g : model::VisibleGpus()) {
    env.gpus.push_back({g.index, g.name, g.total_mb / 1024.0, g.free_mb / 1024.0});
  }
  return env;
}

absl::Status RunDoctorCommand(const DoctorFlags& f) {
  if (f.memory_table) {
    std::fputs(doctor::FormatMemoryTable().c_str(), stdout);
    return absl::OkStatus();
  }
  const doctor::DoctorReport report = doctor::RunDoctor(Environment(), f.repo, f.work);
  std::fputs(doctor::FormatDoctor(report).c_str(), stdout);
  if (report.failed()) return absl::FailedPreconditionError("a check failed (marked fail above)");
  return absl::OkStatus();
}

absl::Status RunInitCommand(const DoctorFlags& f) {
  const doctor::DoctorReport report = doctor::RunDoctor(Environment(), f.repo, f.work);
  if (report.failed()) {
    std::fputs(doctor::FormatDoctor(report).c_str(), stderr);
    return absl::FailedPreconditionError("tune doctor found a problem (above); tune.toml not written");
  }
  TUNE_RETURN_IF_ERROR(doctor::WriteTuneToml(report, f.repo, f.out, f.force));
  std::printf("wrote %s (%s preset); commands that take --config read ./tune.toml by default\n", f.out.c_str(),
              report.preset.c_str());
  return absl::OkStatus();
}

}  // namespace

void RegisterDoctorCommands(CLI::App& app, absl::Status& result) {
  auto f = std::make_shared<DoctorFlags>();
  CLI::App* doctor = app.add_subcommand(
      "doctor", "check the build, GPU, disk and repository; recommend a model, rank, sequence length "
                "and quantization that fit; print the commands");
  doctor->add_option("--repo", f->repo, "the repository to check")->capture_default_str();
  doctor->add_option("--work", f->work, "where datasets and runs will be written (disk check)")->capture_default_str();
  doctor->add_flag("--memory-table", f->memory_table,
                   "print the memory planner's QLoRA estimates for every Qwen2.5-Coder size and exit");
  doctor->callback([f, &result] { result = RunDoctorCommand(*f); });

  CLI::App* init = app.add_subcommand("init", "write a commented tune.toml for the repository, as tune doctor recommends");
  init->add_option("--repo", f->repo, "the repository")->capture_default_str();
  init->add_option("--out", f->out, "the file to write")->capture_default_str();
  init->add_flag("--force", f->force, "overwrite an existing file");
  init->callback([f, &result] { result = RunInitCommand(*f); });
}

}  // namespace tune::cli
