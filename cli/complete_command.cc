// `tune complete`: one fill-in-the-middle completion from the shell, with the prompt layout and
// stop rules `tune serve` uses for /infill. Prints the completion to stdout.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/runner_flags.h"
#include "core/status.h"
#include "inference/engine.h"

namespace tune::cli {
namespace {

struct CompleteFlags {
  RunnerFlags runner;
  std::string prefix_file, suffix_file;
  std::vector<std::string> extra_files;
  inference::CompletionRequest request;
  bool show_timings = false;
};

absl::StatusOr<std::string> ReadText(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("%s %s: cannot open the file", flag, path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status RunComplete(CompleteFlags& f) {
  inference::CompletionRequest& r = f.request;
  r.kind = inference::PromptKind::kInfill;
  TUNE_ASSIGN_OR_RETURN(r.input_prefix, ReadText("--prefix-file", f.prefix_file));
  if (!f.suffix_file.empty()) {
    TUNE_ASSIGN_OR_RETURN(r.input_suffix, ReadText("--suffix-file", f.suffix_file));
  }
  for (const std::string& path : f.extra_files) {
    TUNE_ASSIGN_OR_RETURN(std::string text, ReadText("--extra-file", path));
    r.input_extra.push_back({path, std::move(text)});
  }
  if (r.sampling.temperature <= 0) r.sampling.temperature = 0;  // greedy
  TUNE_ASSIGN_OR_RETURN(inference::EngineOptions options, RunnerOptions(f.runner));
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<inference::Engine> engine, inference::Engine::Start(options));
  if (!engine->Info().infill) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--model %s: its vocabulary has no FIM tokens, so it cannot fill in the middle", f.runner.model));
  }
  TUNE_ASSIGN_OR_RETURN(std::vector<inference::CompletionResult> results, engine->Run(r));
  const inference::CompletionResult& c = results.front();
  std::fwrite(c.content.data(), 1, c.content.size(), stdout);
  std::fflush(stdout);
  if (f.show_timings) {
    std::fprintf(stderr, "\n[prompt %d tokens in %.1f ms, %d generated in %.1f ms (%.1f tokens/s)]\n",
                 c.timings.prompt_n, c.timings.prompt_ms, c.timings.predicted_n, c.timings.predicted_ms,
                 c.timings.predicted_ms > 0 ? 1000.0 * c.timings.predicted_n / c.timings.predicted_ms : 0.0);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterCompleteCommand(CLI::App& app, absl::Status& result) {
  auto f = std::make_shared<CompleteFlags>();
  f->request.n_predict = 128;
  f->request.sampling.temperature = 0;
  CLI::App* cmd = app.add_subcommand(
      "complete", "fill in the middle between --prefix-file and --suffix-file with a GGUF model; "
                  "prints the completion (greedy unless --temperature)");
  AddRunnerFlags(cmd, f->runner, /*server=*/false);
  cmd->add_option("--prefix-file", f->prefix_file, "text before the cursor")->required();
  cmd->add_option("--suffix-file", f->suffix_file, "text after the cursor (default: none)");
  cmd->add_option("--extra-file", f->extra_files, "another file given as repository context (repeatable)");
  cmd->add_option("--filename", f->request.filename, "path of the edited file, named in the repo context");
  cmd->add_option("--n-predict", f->request.n_predict, "most tokens to generate")->capture_default_str();
  cmd->add_option("--n-indent", f->request.n_indent, "stop at a new line indented less than this");
  cmd->add_flag("--single-line", f->request.single_line, "stop at the end of the first line");
  cmd->add_option("--stop", f->request.stop, "stop string (repeatable)");
  cmd->add_option("--temperature", f->request.sampling.temperature, "0: greedy")->capture_default_str();
  cmd->add_option("--seed", f->request.sampling.seed, "sampling seed (default random)");
  cmd->add_flag("--timings", f->show_timings, "print prompt and generation times to stderr");
  cmd->callback([f, &result] { result = RunComplete(*f); });
}

}  // namespace tune::cli
