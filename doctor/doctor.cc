#include "doctor/doctor.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/file.h"
#include "core/status.h"
#include "data/language.h"
#include "data/repo_reader.h"

namespace tune::doctor {
namespace {

constexpr double kGb = 1024.0 * 1024.0 * 1024.0;
constexpr double kMinDiskGb = 20;  // a 7B base, its dataset, checkpoints and GGUFs
constexpr double kUsableFraction = 0.9;  // of a GPU's free memory the plan may use

Check BuildCheck(const Environment& env) {
  return {"build", "ok",
          absl::StrFormat("tune %s, %s, LibTorch %s, llama.cpp %s", env.tune_version,
                          env.cuda_build ? "CUDA training" : "CPU-only training (no CUDA in this build)",
                          env.libtorch_version, env.llama_cpp_version)};
}

Check GpuCheck(const Environment& env) {
  if (env.gpus.empty()) {
    return {"gpu", "warn",
            env.cuda_build ? "no CUDA device visible: training would run on the CPU (slow beyond tiny models)"
                           : "none used by this build: training runs on the CPU; scripts/build-gpu.sh builds the CUDA path"};
  }
  std::vector<std::string> cards;
  for (const Gpu& g : env.gpus) {
    cards.push_back(absl::StrFormat("#%d %s: %.1f GiB free of %.1f", g.index, g.name, g.free_gb, g.total_gb));
  }
  return {"gpu", "ok", absl::StrJoin(cards, "; ")};
}

Check DiskCheck(const std::filesystem::path& work) {
  std::error_code ec;
  std::filesystem::path probe = work;
  while (!probe.empty() && !std::filesystem::exists(probe, ec)) probe = probe.parent_path();
  const std::filesystem::space_info space = std::filesystem::space(probe.empty() ? "." : probe, ec);
  if (ec) return {"disk", "warn", absl::StrFormat("cannot read free space at %s: %s", work.string(), ec.message())};
  const double free_gb = static_cast<double>(space.available) / kGb;
  return {"disk", free_gb >= kMinDiskGb ? "ok" : "warn",
          absl::StrFormat("%.1f GiB free at %s%s", free_gb, probe.string(),
                          free_gb >= kMinDiskGb ? "" : absl::StrFormat(" (a 7B run needs about %.0f GiB)", kMinDiskGb))};
}

Check RepoCheck(const std::filesystem::path& repo, std::vector<std::pair<std::string, int64_t>>& languages) {
  absl::StatusOr<std::unique_ptr<data::RepoReader>> reader = data::RepoReader::Open(repo);
  if (!reader.ok()) return {"repository", "fail", std::string(reader.status().message())};
  absl::StatusOr<std::string> head = (*reader)->ResolveCommit("HEAD");
  if (!head.ok()) return {"repository", "fail", std::string(head.status().message())};
  absl::StatusOr<std::vector<data::TreeFile>> files = (*reader)->ListFiles(*head);
  if (!files.ok()) return {"repository", "fail", std::string(files.status().message())};
  std::map<std::string, int64_t> counts;
  for (const data::TreeFile& f : *files) {
    data::Language language = data::DetectLanguage(f.path, "");
    // The name cannot tell a C++ header from a C one, nor say what a file without an extension
    // is: its first bytes can, as in ingest.
    if (!language.known() || language.name == "c") {
      absl::StatusOr<std::string> head = (*reader)->ReadBlobHead(f.blob_id, data::kLanguageHeadBytes);
      if (head.ok()) language = data::DetectLanguage(f.path, *head);
    }
    if (language.known() && language.kind == data::LanguageKind::kCode) ++counts[std::string(language.name)];
  }
  languages.assign(counts.begin(), counts.end());
  std::sort(languages.begin(), languages.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> top;
  for (size_t i = 0; i < languages.size() && i < 5; ++i) {
    top.push_back(absl::StrFormat("%s %d", languages[i].first, languages[i].second));
  }
  return {"repository", languages.empty() ? "warn" : "ok",
          absl::StrFormat("%s at %.12s: %d files; code: %s", repo.string(), *head, files->size(),
                          top.empty() ? "none recognised" : absl::StrJoin(top, ", "))};
}

std::vector<std::string> Commands(const DoctorReport& r, const std::filesystem::path& repo) {
  if (!r.recommendation) {
    return {"./scripts/run-default.sh      # the whole loop on the embedded tiny model, a few minutes on this CPU",
            "tune init                     # writes tune.toml; set model.base to a downloaded Qwen2.5-Coder-0.5B",
            "tune ingest --repo . --config tune.toml --out data/",
            "tune train --config tune.toml --data data/ --out run/     # CPU: slow, hours for 0.5B"};
  }
  const Recommendation& rec = *r.recommendation;
  const std::string base = "models/" + rec.model.name;
  return {
      absl::StrFormat("tune init --repo %s                          # tune.toml with the settings below", repo.string()),
      absl::StrFormat("# download %s (Hugging Face) into %s, then:", rec.model.hf_id, base),
      "tune ingest --repo . --config tune.toml --out data/",
      "tune train  --config tune.toml --data data/ --out run/",
      "tune eval   --data data/ --base " + base + " --lora run/ --report eval.html",
      absl::StrFormat("tune export --base %s --adapter run/ --quant %s --out coder-%s.gguf", base, rec.quant, rec.quant),
      absl::StrFormat("tune serve  --model coder-%s.gguf            # then point llama.vscode at http://127.0.0.1:8012",
                      rec.quant)};
}

}  // namespace

bool DoctorReport::failed() const {
  return std::any_of(checks.begin(), checks.end(), [](const Check& c) { return c.status == "fail"; });
}

DoctorReport RunDoctor(const Environment& env, const std::filesystem::path& repo, const std::filesystem::path& work) {
  DoctorReport r;
  r.checks = {BuildCheck(env), GpuCheck(env), DiskCheck(work), RepoCheck(repo, r.languages)};
  if (!env.gpus.empty() && env.cuda_build) r.recommendation = Recommend(env.gpus.front().free_gb * kUsableFraction);
  r.preset = r.recommendation ? "qwen2.5-coder" : "tiny";
  r.commands = Commands(r, repo);
  return r;
}

std::string FormatDoctor(const DoctorReport& r) {
  std::string out;
  for (const Check& c : r.checks) absl::StrAppendFormat(&out, "%-4s  %-10s  %s\n", c.status, c.name, c.detail);
  out += "\n";
  if (r.recommendation) {
    const Recommendation& rec = *r.recommendation;
    const MemoryEstimate& m = rec.memory;
    absl::StrAppendFormat(&out,
                          "recommended: %s (%s), QLoRA rank %d, seq_len %d, serve as %s\n"
                          "  estimated training memory %.1f GiB: weights %.1f, adapters + AdamW %.1f, activations "
                          "%.1f, loss chunk %.1f, runtime %.1f (doctor/memory_plan.h)\n",
                          rec.model.name, rec.model.hf_id, rec.train.rank, rec.train.seq_len, rec.quant, m.total_gb(),
                          m.weights_gb, m.adapters_gb, m.activations_gb, m.loss_gb, m.runtime_gb);
  } else {
    out += "recommended: no usable GPU here. Try the loop on the embedded tiny model (a toy, for the\n"
           "pipeline), and train a real model on a machine with a CUDA build and a GPU of 8 GiB or more.\n";
  }
  out += "\nnext:\n";
  for (const std::string& c : r.commands) out += "  " + c + "\n";
  return out;
}

std::string FormatMemoryTable() {
  std::string out =
      "| model | QLoRA r16, 1k tokens | 2k tokens | 4k tokens | GGUF Q8_0 | GGUF Q4_K_M |\n"
      "| --- | --- | --- | --- | --- | --- |\n";
  for (const ModelShape& m : QwenCoderShapes()) {
    absl::StrAppendFormat(&out, "| %s |", m.name);
    for (int64_t seq : {1024, 2048, 4096}) {
      TrainShape t;
      t.seq_len = seq;
      absl::StrAppendFormat(&out, " %.1f GiB |", EstimateQLoRA(m, t).total_gb());
    }
    absl::StrAppendFormat(&out, " %.1f GiB | %.1f GiB |\n", ServedSizeGb(m, "Q8_0"), ServedSizeGb(m, "Q4_K_M"));
  }
  return out;
}

absl::Status WriteTuneToml(const DoctorReport& r, const std::filesystem::path& repo, const std::filesystem::path& file,
                           bool overwrite) {
  if (!overwrite && std::filesystem::exists(file)) {
    return absl::AlreadyExistsError(
        absl::StrFormat("%s exists; hint: edit it, or pass --force to write a new one", file.string()));
  }
  std::vector<std::string> langs;
  for (const auto& [name, count] : r.languages) langs.push_back(absl::StrFormat("%s (%d files)", name, count));
  std::string toml = absl::StrFormat(
      "# tune.toml for %s, written by `tune init` (every key: docs/config.md).\n"
      "# Languages found at HEAD: %s.\n"
      "# Later commands need no flags beyond --config tune.toml.\n\n",
      repo.string(), langs.empty() ? "none recognised" : absl::StrJoin(langs, ", "));
  if (r.recommendation) {
    const Recommendation& rec = *r.recommendation;
    absl::StrAppendFormat(&toml,
                          "[model]\nfamily = \"qwen2.5-coder\"\n"
                          "base = \"models/%s\"              # download %s here\n\n"
                          "[lora]\nrank = %d\nalpha = %d\n\n"
                          "[ingest]\nfim_spm_rate = 0.0              # PSM, as Qwen2.5-Coder was pretrained and clients send\n\n"
                          "[train]\nseq_len = %d                   # fits the GPU by doctor's estimate (%.1f GiB)\n"
                          "device = \"auto\"\n\n"
                          "[retrain]\ndir = \"retrain\"\nquant = \"%s\"\nserve_url = \"http://127.0.0.1:8012\"\n"
                          "# warm_start = true            # continue from the served adapter (docs/retrain.md)\n"
                          "# warm_steps = 100             # train.steps of those warm runs\n"
                          "# warm_lr = 5e-5                # their train.lr (a quarter of it did best in docs/retrain.md)\n",
                          rec.model.name, rec.model.hf_id, rec.train.rank, 2 * rec.train.rank, rec.train.seq_len,
                          rec.memory.total_gb(), rec.quant);
  } else {
    toml +=
        "# No usable GPU was found: the tiny preset (configs/tiny.toml) runs on the CPU. For a real\n"
        "# model set family and base (e.g. a Qwen2.5-Coder-0.5B directory) and expect slow training.\n"
        "[model]\nfamily = \"tiny\"\n# base = \"models/Qwen2.5-Coder-0.5B\"\ndtype = \"float32\"\n\n"
        "[lora]\nrank = 8\nalpha = 16\ndropout = 0.0\n\n"
        "[ingest]\nfim_spm_rate = 1.0              # the tiny model completes in SPM order (docs/eval.md)\n\n"
        "[train]\nsteps = 200\nbatch_size = 4\nseq_len = 256\nlr = 0.01\n\n"
        "[retrain]\ndir = \"retrain\"\nfim_order = \"spm\"\n";
  }
  return core::WriteFileAtomic(file, toml);
}

}  // namespace tune::doctor
