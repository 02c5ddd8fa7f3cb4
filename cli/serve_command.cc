// `tune serve`: a llama.cpp-compatible completion server for IDEs (docs/serving.md).
// SIGHUP reloads the model and adapters from their files; SIGINT/SIGTERM stop it.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "cli/commands.h"
#include "cli/runner_flags.h"
#include "core/status.h"
#include "inference/server.h"

namespace tune::cli {
namespace {

struct ServeFlags {
  RunnerFlags runner;
  inference::ServerOptions server;
  std::string api_key_file;
};

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  std::string key;
  if (!in || !std::getline(in, key)) {
    return absl::NotFoundError(absl::StrFormat("--api-key-file %s: cannot read a key from it", path));
  }
  key = std::string(absl::StripAsciiWhitespace(key));
  if (key.empty()) return absl::InvalidArgumentError(absl::StrFormat("--api-key-file %s: the key is empty", path));
  return key;
}

// Signals arrive on any thread (libraries start threads before main can block them), so the
// handler only writes the signal number to a pipe; one thread reads it and reloads or stops as
// normal code.
int signal_pipe[2] = {-1, -1};

void OnSignal(int sig) {
  const char byte = static_cast<char>(sig);
  [[maybe_unused]] ssize_t n = write(signal_pipe[1], &byte, 1);
}

absl::Status InstallSignalHandlers() {
  if (pipe(signal_pipe) != 0) return absl::InternalError("tune serve: cannot create the signal pipe");
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int sig : {SIGHUP, SIGINT, SIGTERM}) sigaction(sig, &action, nullptr);
  return absl::OkStatus();
}

void HandleSignals(inference::Engine& engine, inference::Server& server) {
  for (;;) {
    char byte = 0;
    if (read(signal_pipe[0], &byte, 1) != 1) continue;
    const int sig = byte;
    if (sig != SIGHUP) {
      if (sig != 0) std::fprintf(stderr, "tune serve: stopping (signal %d)\n", sig);
      server.Stop();
      return;
    }
    std::fprintf(stderr, "tune serve: SIGHUP, reloading the model\n");
    absl::Status st = engine.Reload();
    std::fprintf(stderr, "tune serve: reload %s\n", st.ok() ? "done" : std::string(st.message()).c_str());
  }
}

absl::Status RunServe(ServeFlags& f) {
  if (!f.api_key_file.empty()) {
    TUNE_ASSIGN_OR_RETURN(f.server.api_key, ReadKeyFile(f.api_key_file));
  }
  TUNE_ASSIGN_OR_RETURN(inference::EngineOptions options, RunnerOptions(f.runner));
  TUNE_RETURN_IF_ERROR(InstallSignalHandlers());
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<inference::Engine> engine, inference::Engine::Start(options));
  inference::Server server(*engine, f.server);
  TUNE_RETURN_IF_ERROR(server.Bind());
  const inference::ModelInfo info = engine->Info();
  std::fprintf(stderr,
               "tune serve: %s (%s), %d slot(s) x %d tokens, FIM %s, repo context \"%s\"\n"
               "tune serve: listening on http://%s:%d (POST /infill, /completion, /v1/completions)\n",
               info.path.c_str(), info.description.c_str(), info.n_slots, info.n_ctx_slot,
               info.infill ? "yes" : "no (the vocabulary has no FIM tokens)", info.repo_name.c_str(),
               f.server.host.c_str(), server.port());
  if (!info.index_path.empty()) {
    std::fprintf(stderr, "tune serve: retrieval index %s (%lld chunks), %d per infill request\n",
                 info.index_path.c_str(), static_cast<long long>(info.index_chunks), options.retrieval_chunks);
  }
  std::thread signal_thread([&] { HandleSignals(*engine, server); });
  server.Run();
  OnSignal(0);  // Run() also returns when the socket fails: end the signal thread
  signal_thread.join();
  return absl::OkStatus();
}

}  // namespace

void RegisterServeCommand(CLI::App& app, absl::Status& result) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "serve a GGUF over llama.cpp's HTTP API (/infill for llama.vscode and llama.vim, "
               "/completion, OpenAI /v1/completions); SIGHUP reloads the files");
  AddRunnerFlags(cmd, f->runner, /*server=*/true);
  inference::ServerOptions& s = f->server;
  cmd->add_option("--host", s.host, "address to listen on (loopback by default)")->capture_default_str();
  cmd->add_option("--port", s.port, "port (8012: llama.vscode's and llama.vim's default; 0: any)")
      ->capture_default_str();
  cmd->add_option("--api-key", s.api_key, "require this key (Authorization: Bearer KEY or X-Api-Key)");
  cmd->add_option("--api-key-file", f->api_key_file, "read the key from the first line of this file");
  cmd->add_option("--cors-origin", s.cors_origins, "browser origin allowed to call the server (repeatable)");
  cmd->add_option("--alias", s.model_name, "model name in responses and /v1/models (default: the file name)");
  cmd->add_option("--max-body-bytes", s.max_body_bytes, "largest request body accepted")->capture_default_str();
  cmd->add_option("--max-predict", s.limits.max_n_predict, "largest n_predict a request may ask for")
      ->capture_default_str();
  cmd->add_option("--http-threads", s.http_threads, "HTTP worker threads (0: max(32, 4 x slots))")
      ->capture_default_str();
  cmd->callback([f, &result] { result = RunServe(*f); });
}

}  // namespace tune::cli
