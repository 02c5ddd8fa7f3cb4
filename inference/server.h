// The HTTP server of `tune serve` (cpp-httplib): llama.cpp-compatible endpoints over an Engine.
//
//   POST /infill, /completion (/completions), /v1/completions   completions, SSE when "stream"
//   POST /tokenize, /detokenize                                  the model's vocabulary
//   GET  /health (/v1/health), /v1/models (/models), /props, /slots, /metrics (Prometheus)
//   GET  /lora-adapters, POST /lora-adapters                     run-time adapter scales
//   POST /admin/reload                                           re-read model + adapters (SIGHUP)
//
// Security defaults: binds 127.0.0.1; with an API key every endpoint but /health and /v1/models
// needs `Authorization: Bearer KEY` or `X-Api-Key: KEY` (compared in constant time); requests
// whose Host is not this machine are refused while bound to loopback (DNS rebinding); no CORS
// headers unless origins are listed; bodies over max_body_bytes get 413; every parse or engine
// error is a JSON error with a 4xx/5xx code, never a crash. A streaming client that disconnects
// cancels its generation at the next token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "inference/engine.h"
#include "inference/http_api.h"

namespace httplib {
class Server;
struct Response;
}

namespace tune::inference {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8012;  // llama.vscode's and llama.vim's default endpoint; 0 = any free port
  std::string api_key;  // empty: no key
  std::vector<std::string> cors_origins;  // exact origins allowed to call from a browser
  size_t max_body_bytes = 8 << 20;
  RequestLimits limits;
  int32_t http_threads = 0;  // 0 = max(32, 4 * slots): idle keep-alive connections hold one each
  std::string model_name;    // the id in /v1/models and responses; default the GGUF's file name
};

class Server {
 public:
  Server(Engine& engine, ServerOptions options);
  ~Server();
  // Binds the socket; an address in use is an error naming it.
  absl::Status Bind();
  int port() const { return port_; }
  // Serves until Stop() (from any thread, e.g. a signal handler thread).
  void Run();
  void Stop();

 private:
  // Every route, by group: the guard before any route (Host check, CORS, API key), error and
  // exception answers, completions, model and server information, tokenizer, administration.
  void Routes();
  void GuardRoutes();
  void ErrorRoutes();
  void CompletionRoutes();
  void InfoRoutes();
  void MetricsRoute();
  void TokenizerRoutes();
  void AdminRoutes();
  void Stream(httplib::Response& res, CompletionRequest request, bool openai);
  Engine& engine_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  int listen_fd_ = -1;
};

}  // namespace tune::inference
