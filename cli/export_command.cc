// `tune export`: a model (with its adapter merged) as GGUF + Ollama Modelfile, or the adapter
// alone as a GGUF LoRA adapter or PEFT copy.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/status.h"
#include "export/gguf_export.h"

namespace tune::cli {
namespace {

struct ExportFlags {
  exporter::ExportOptions options;
  bool merge_into_nf4 = false;
};

absl::Status RunExportCommand(ExportFlags& f) {
  if (f.merge_into_nf4) f.options.merge_target = exporter::MergeTarget::kNf4Dequantized;
  TUNE_ASSIGN_OR_RETURN(exporter::ExportReport report, exporter::RunExport(f.options));
  std::fprintf(
      stderr, "exported %lld tensors to %s (%.1f MiB) in %.1f s%s%s\n",
      static_cast<long long>(report.tensors), report.out.string().c_str(), report.bytes / 1048576.0,
      report.seconds,
      report.modelfile.empty() ? "" : "; Ollama Modelfile: ", report.modelfile.string().c_str());
  return absl::OkStatus();
}

}  // namespace

void RegisterExportCommand(CLI::App& app, absl::Status& result) {
  auto f = std::make_shared<ExportFlags>();
  exporter::ExportOptions& o = f->options;
  CLI::App* cmd = app.add_subcommand(
      "export", "write a GGUF for llama.cpp / Ollama (adapter merged), or the adapter alone");
  cmd->add_option("--base", o.base, "Hugging Face model directory of the base model")->required();
  cmd->add_option("--adapter", o.adapter, "PEFT adapter directory (from `tune train`) to merge");
  cmd->add_option("--quant", o.quant,
                  "F32, F16, BF16, Q8_0, Q4_0, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M or Q6_K "
                  "(model exports)")
      ->capture_default_str();
  cmd->add_option("--out", o.out,
                  "output *.gguf (an Ollama Modelfile is written beside it); with "
                  "--adapter-only, *.gguf for a GGUF LoRA adapter or a directory for a PEFT copy")
      ->required();
  cmd->add_flag("--adapter-only", o.adapter_only,
                "export only the adapter (llama-server --lora, Ollama ADAPTER, or PEFT files)");
  cmd->add_flag("--merge-into-nf4", f->merge_into_nf4,
                "merge into the NF4-dequantized base weights the QLoRA adapter was trained "
                "against instead of the original weights");
  cmd->add_option("--threads", o.threads, "quantization threads (0: all cores)")
      ->capture_default_str();
  cmd->callback([f, &result] { result = RunExportCommand(*f); });
}

}  // namespace tune::cli
