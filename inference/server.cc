#include "inference/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tune::inference {
namespace {

using Json = nlohmann::json;
using Parser = std::function<absl::StatusOr<CompletionRequest>(std::string_view, const RequestLimits&)>;

void SendJson(httplib::Response& res, int code, const Json& body) {
  res.status = code;
  res.set_content(DumpJson(body), "application/json; charset=utf-8");
}

void SendError(httplib::Response& res, const absl::Status& status) {
  const int code = HttpCodeFor(status);
  SendJson(res, code, ErrorJson(code, std::string(status.message())));
}

// Constant-time in the key: the time taken does not depend on where the strings differ.
bool SameSecret(std::string_view given, std::string_view key) {
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ key[i % key.size()]);
  }
  return diff == 0;
}

bool IsLoopbackHost(std::string_view host) {
  if (host.starts_with('[')) {  // [::1]:8012
    return host.starts_with("[::1]");
  }
  host = host.substr(0, host.find(':'));
  return host == "localhost" || host.starts_with("127.") || host.ends_with(".localhost");
}

bool IsLoopbackBind(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

bool IsPublicPath(std::string_view path) {
  return path == "/health" || path == "/v1/health" || path == "/v1/models" || path == "/models";
}

std::string CompletionId() {
  static std::atomic<uint64_t> next{1};
  return absl::StrFormat("cmpl-%016x", std::chrono::steady_clock::now().time_since_epoch().count() ^
                                           (next++ << 40));
}

int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Metric(std::string_view name, std::string_view type, std::string_view help, double value) {
  return absl::StrFormat("# HELP tune_%s %s\n# TYPE tune_%s %s\ntune_%s %.17g\n", name, help, name,
                         type, name, value);
}

}  // namespace

Server::Server(Engine& engine, ServerOptions options)
    : engine_(engine), options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  if (options_.model_name.empty()) {
    options_.model_name = std::filesystem::path(engine_.Info().path).filename().string();
  }
  const int32_t slots = engine_.Info().n_slots;
  const int32_t threads = options_.http_threads > 0 ? options_.http_threads : std::max(32, 4 * slots);
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  // Headers and body leave in two writes; without TCP_NODELAY the second waits ~40 ms for the
  // client's delayed ACK on every request after the first of a keep-alive connection.
  http_->set_tcp_nodelay(true);
  // httplib's own socket options (replaced by ours) are SO_REUSEADDR; the descriptor is kept to
  // raise the listen backlog after bind (Bind()).
  http_->set_socket_options([this](int fd) {
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = fd;
  });
  http_->set_keep_alive_max_count(1000);
  http_->set_keep_alive_timeout(5);
  http_->set_read_timeout(30, 0);
  http_->set_write_timeout(30, 0);
  Routes();
}

Server::~Server() { Stop(); }

absl::Status Server::Bind() {
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ <= 0) return absl::UnavailableError(absl::StrFormat("cannot bind %s", options_.host));
  } else if (http_->bind_to_port(options_.host, options_.port)) {
    port_ = options_.port;
  } else {
    return absl::UnavailableError(absl::StrFormat(
        "cannot listen on %s:%d (address in use, or not an address of this machine); hint: pick "
        "another --port, or stop the other server",
        options_.host, options_.port));
  }
  // cpp-httplib 0.11 listens with a backlog of 5: more clients connecting at once than that
  // (an editor's requests plus a benchmark's) overflow it. Listening again raises it.
  if (listen_fd_ >= 0) ::listen(listen_fd_, SOMAXCONN);
  return absl::OkStatus();
}

void Server::Run() { http_->listen_after_bind(); }

void Server::Stop() {
  if (http_) http_->stop();
}

void Server::Routes() {
  GuardRoutes();
  ErrorRoutes();
  CompletionRoutes();
  InfoRoutes();
  MetricsRoute();
  TokenizerRoutes();
  AdminRoutes();
}

void Server::GuardRoutes() {
  httplib::Server& s = *http_;
  const bool loopback = IsLoopbackBind(options_.host);
  s.set_pre_routing_handler([this, loopback](const httplib::Request& req, httplib::Response& res) {
    if (loopback && req.has_header("Host") && !IsLoopbackHost(req.get_header_value("Host"))) {
      SendJson(res, 403, ErrorJson(403, "this server only answers requests addressed to this machine (Host header)"));
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string origin = req.get_header_value("Origin");
    const bool cors = !origin.empty() && std::find(options_.cors_origins.begin(), options_.cors_origins.end(),
                                                   origin) != options_.cors_origins.end();
    if (cors) {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Vary", "Origin");
    }
    if (req.method == "OPTIONS") {
      if (cors) {
        res.set_header("Access-Control-Allow-Methods", "GET, POST");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key");
      }
      res.status = cors ? 204 : 403;
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!options_.api_key.empty() && !IsPublicPath(req.path)) {
      std::string key = req.get_header_value("X-Api-Key");
      const std::string auth = req.get_header_value("Authorization");
      if (key.empty() && absl::StartsWithIgnoreCase(auth, "Bearer ")) key = auth.substr(7);
      if (!SameSecret(key, options_.api_key)) {
        SendJson(res, 401, ErrorJson(401, "Invalid API Key"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
}

void Server::ErrorRoutes() {
  httplib::Server& s = *http_;
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string what = res.status == 404   ? absl::StrCat("no endpoint ", req.method, " ", req.path)
                             : res.status == 413 ? std::string("request body too large")
                                                 : absl::StrFormat("HTTP error %d", res.status);
    SendJson(res, res.status, ErrorJson(res.status, what));
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendJson(res, 500, ErrorJson(500, what));
  });

}

void Server::CompletionRoutes() {
  httplib::Server& s = *http_;
  // Completions: the same flow, three request dialects, two response dialects.
  auto completion = [this](Parser parse, bool openai) {
    return [this, parse, openai](const httplib::Request& req, httplib::Response& res) {
      absl::StatusOr<CompletionRequest> request = parse(req.body, options_.limits);
      if (!request.ok()) return SendError(res, request.status());
      // Clients ask for several completions (llama.vscode: 3) whatever the slot count: each
      // needs a slot, so a smaller server answers with as many as it has slots.
      request->n_cmpl = std::min(request->n_cmpl, engine_.Info().n_slots);
      if (request->kind == PromptKind::kInfill && !engine_.Info().infill) {
        return SendError(res, absl::UnimplementedError(
                                  "Infill is not supported by this model: prefix token is missing."));
      }
      if (!request->stream) {
        absl::StatusOr<std::vector<CompletionResult>> results = engine_.Run(*request);
        if (!results.ok()) return SendError(res, results.status());
        const Json body = openai ? OpenAiCompletionJson(*results, options_.model_name, CompletionId(), UnixSeconds())
                                 : CompletionResponseJson(*results, *request, options_.model_name);
        return SendJson(res, 200, body);
      }
      Stream(res, std::move(*request), openai);
    };
  };
  s.Post("/infill", completion(ParseInfillRequest, false));
  s.Post("/completion", completion(ParseCompletionRequest, false));
  s.Post("/completions", completion(ParseCompletionRequest, false));
  s.Post("/v1/completions", completion(ParseOpenAiCompletionRequest, true));

}

void Server::InfoRoutes() {
  httplib::Server& s = *http_;
  auto health = [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, Json{{"status", "ok"}});
  };
  s.Get("/health", health);
  s.Get("/v1/health", health);
  auto models = [this](const httplib::Request&, httplib::Response& res) {
    const ModelInfo info = engine_.Info();
    SendJson(res, 200,
             Json{{"object", "list"},
                  {"data", Json::array({Json{{"id", options_.model_name},
                                             {"object", "model"},
                                             {"created", UnixSeconds()},
                                             {"owned_by", "tune"},
                                             {"meta", Json{{"n_vocab", info.n_vocab},
                                                           {"n_ctx_train", info.n_ctx_train},
                                                           {"n_params", info.n_params},
                                                           {"size", info.size_bytes}}}}})}});
  };
  s.Get("/v1/models", models);
  s.Get("/models", models);
  s.Get("/props", [this](const httplib::Request&, httplib::Response& res) {
    const ModelInfo info = engine_.Info();
    SendJson(res, 200,
             Json{{"model_path", info.path},
                  {"model", info.description},
                  {"total_slots", info.n_slots},
                  {"n_ctx", info.n_ctx_slot},
                  {"n_batch", info.n_batch},
                  {"infill", info.infill},
                  {"repo_name", info.repo_name},
                  {"reloads", info.reloads},
                  {"index", info.index_path.empty() ? Json() : Json{{"path", info.index_path},
                                                                    {"chunks", info.index_chunks}}},
                  {"build_info", absl::StrCat("tune llama.cpp-", LlamaCppVersion().substr(0, 12))}});
  });
  s.Get("/slots", [this](const httplib::Request&, httplib::Response& res) {
    Json slots = Json::array();
    for (const SlotInfo& slot : engine_.Slots()) {
      slots.push_back({{"id", slot.id}, {"is_processing", slot.busy}, {"n_ctx", slot.n_ctx},
                       {"tokens_cached", slot.tokens_cached}});
    }
    SendJson(res, 200, slots);
  });
}

void Server::MetricsRoute() {
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const EngineStats st = engine_.Stats();
    std::string text;
    text += Metric("requests_total", "counter", "Completion requests accepted.", double(st.requests_total));
    text += Metric("requests_cancelled_total", "counter", "Requests whose client went away.", double(st.requests_cancelled));
    text += Metric("requests_failed_total", "counter", "Requests that ended in an error.", double(st.requests_failed));
    text += Metric("prompt_tokens_total", "counter", "Prompt tokens evaluated.", double(st.prompt_tokens_total));
    text += Metric("prompt_tokens_cached_total", "counter", "Prompt tokens reused from a slot's cache.", double(st.prompt_tokens_cached_total));
    text += Metric("prompt_seconds_total", "counter", "Time spent on prompts.", st.prompt_seconds_total);
    text += Metric("tokens_predicted_total", "counter", "Tokens generated.", double(st.tokens_predicted_total));
    text += Metric("tokens_predicted_seconds_total", "counter", "Time spent generating.", st.predicted_seconds_total);
    text += Metric("decode_total", "counter", "llama_decode calls.", double(st.decode_calls_total));
    text += Metric("busy_slots_per_decode", "gauge", "Average busy slots per llama_decode.",
                   st.decode_calls_total ? double(st.decode_slots_total) / double(st.decode_calls_total) : 0.0);
    text += Metric("requests_processing", "gauge", "Requests in a slot now.", st.requests_processing);
    text += Metric("requests_deferred", "gauge", "Requests waiting for a slot now.", st.requests_deferred);
    text += Metric("retrieval_requests_total", "counter", "Infill requests searched in the --index.",
                   double(st.retrieval_requests_total));
    text += Metric("retrieved_chunks_total", "counter", "Index chunks added to infill prompts.",
                   double(st.retrieved_chunks_total));
    text += Metric("retrieval_seconds_total", "counter", "Time spent searching the --index.",
                   st.retrieval_seconds_total);
    res.set_content(text, "text/plain; version=0.0.4");
  });
}

void Server::TokenizerRoutes() {
  httplib::Server& s = *http_;
  s.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<TokenizeRequest> r = ParseTokenizeRequest(req.body);
    if (!r.ok()) return SendError(res, r.status());
    const std::vector<int32_t> ids = engine_.Tokenize(r->content, r->add_special, r->parse_special);
    std::vector<std::string> pieces;
    if (r->with_pieces) {
      for (int32_t id : ids) pieces.push_back(engine_.Piece(id));
    }
    SendJson(res, 200, TokenizeResponseJson(ids, pieces));
  });
  s.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<DetokenizeRequest> r = ParseDetokenizeRequest(req.body);
    if (!r.ok()) return SendError(res, r.status());
    absl::StatusOr<std::string> text = engine_.Detokenize(r->tokens);
    if (!text.ok()) return SendError(res, text.status());
    SendJson(res, 200, Json{{"content", *text}});
  });
}

void Server::AdminRoutes() {
  httplib::Server& s = *http_;
  auto list_loras = [this](httplib::Response& res) {
    Json list = Json::array();
    for (const LoraInfo& l : engine_.Loras()) list.push_back({{"id", l.id}, {"path", l.path}, {"scale", l.scale}});
    SendJson(res, 200, list);
  };
  s.Get("/lora-adapters", [list_loras](const httplib::Request&, httplib::Response& res) { list_loras(res); });
  s.Post("/lora-adapters", [this, list_loras](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<std::vector<LoraScale>> scales = ParseLoraScales(req.body);
    if (!scales.ok()) return SendError(res, scales.status());
    if (absl::Status st = engine_.SetLoraScales(*scales); !st.ok()) return SendError(res, st);
    list_loras(res);
  });
  s.Post("/admin/reload", [this](const httplib::Request&, httplib::Response& res) {
    const auto t0 = std::chrono::steady_clock::now();
    if (absl::Status st = engine_.Reload(); !st.ok()) return SendError(res, st);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const ModelInfo info = engine_.Info();
    SendJson(res, 200, Json{{"status", "reloaded"}, {"model_path", info.path}, {"reloads", info.reloads},
                            {"reload_ms", ms}});
  });
}

// Server-sent events. The first event is awaited before answering, so a request the engine
// refuses (bad token ids, full queue) gets a plain JSON error with its HTTP code.
void Server::Stream(httplib::Response& res, CompletionRequest request, bool openai) {
  std::shared_ptr<CompletionStream> stream = engine_.Submit(request);
  std::optional<StreamEvent> first = stream->Next();
  if (first && first->kind == StreamEvent::Kind::kError) return SendError(res, first->error);
  auto shared_request = std::make_shared<CompletionRequest>(std::move(request));
  const std::string id = CompletionId();
  const int64_t created = UnixSeconds();
  auto pending = std::make_shared<std::optional<StreamEvent>>(std::move(first));
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, stream, shared_request, pending, openai, id, created](size_t, httplib::DataSink& sink) {
        auto send = [&](const std::string& text) {
          if (sink.write(text.data(), text.size())) return true;
          stream->Cancel();
          return false;
        };
        std::optional<StreamEvent> e = std::move(*pending);
        pending->reset();
        if (!e) e = stream->Next();
        for (; e; e = stream->Next()) {
          Json j;
          switch (e->kind) {
            case StreamEvent::Kind::kPartial:
              j = openai ? OpenAiChunkJson(e->partial, options_.model_name, id, created) : PartialResultJson(e->partial);
              break;
            case StreamEvent::Kind::kFinal:
              j = openai ? OpenAiChunkJson(e->final, options_.model_name, id, created)
                         : CompletionResultJson(e->final, *shared_request, options_.model_name);
              break;
            case StreamEvent::Kind::kError:
              j = ErrorJson(HttpCodeFor(e->error), std::string(e->error.message()));
              send(SseEvent(j, "error"));
              sink.done();
              return true;
          }
          if (!send(SseEvent(j))) return false;
        }
        if (openai && !send("data: [DONE]\n\n")) return false;
        sink.done();
        return true;
      },
      [stream](bool success) {
        if (!success) stream->Cancel();
      });
}

}  // namespace tune::inference
