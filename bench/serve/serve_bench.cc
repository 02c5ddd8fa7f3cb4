// The client of bench/serve: measures ONE llama.cpp-compatible server (`tune serve` or
// llama.cpp's `llama-server`) at a URL, so that run.sh can measure both on the same GGUF, one
// after the other, and compare them.
//
//   serve_bench --url http://127.0.0.1:PORT --name NAME [--scenario all|decode|prompt|fim|concurrent]
//               [--rounds N] [--concurrent-seconds S] [--clients C] [--fim-prefix-tokens T]
//               [--keep-alive 0|1] [--json-out FILE]
//   serve_bench --url URL --wait SECONDS          # exit 0 once GET /health answers 200
//   serve_bench --baseline A.json --candidate B.json [--title T]   # the comparison table
//
// Scenarios (every request is what llama.vscode / llama.vim or a plain /completion client sends):
//   decode      POST /completion, a fixed ~64-token prompt, n_predict 128, temperature 0,
//               ignore_eos, cache_prompt false: the server's timings.predicted_per_second and
//               the client's tokens / request wall time (median of --rounds after one warm-up).
//   prompt      POST /completion, a ~1000-token prompt that starts with the round number (no
//               cache hit), n_predict 1, cache_prompt false: timings.prompt_per_second and the
//               client's prompt tokens / request wall time.
//   fim         POST /infill, streamed, like llama.vscode (id_slot 0, cache_prompt true, samplers
//               top_k/top_p/infill, temperature 0, n_predict 16) with a ~1500-token prefix of
//               code, a ~100-token suffix and the typed part of the cursor line; between requests
//               one identifier in the middle of the prefix changes (a few tokens, and a shift of
//               the tokens after it). Time to first token = request sent -> first SSE `data:`
//               event with non-empty content or stop; median over --rounds after a cold warm-up.
//   concurrent  --clients threads, each with its own ~200-token file, send non-streamed FIM
//               requests (n_predict 16, cache_prompt true, a different typed prefix each time)
//               back to back for --concurrent-seconds: completed requests / second, errors.
//               These use samplers top_k/top_p/temperature (temperature 0: greedy) without
//               `infill`, and ignore_eos, so that every request decodes its 16 tokens: on random
//               weights llama.cpp's infill sampler ends generation at the first token, which
//               would leave only prompt work.
// Requests go over keep-alive connections (--keep-alive 0: a new connection per request).
// Prints `NAME scenario metric value` lines and, last, one JSON line with every metric.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/bench_util.h"

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// A number from a JSON object path such as {"timings", "prompt_n"}; NaN when absent.
double Num(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return kNaN;
    auto it = cur->find(key);
    if (it == cur->end()) return kNaN;
    cur = &*it;
  }
  return cur->is_number() ? cur->get<double>() : kNaN;
}

// ---------------------------------------------------------------------------------------------
// Deterministic code-like text: Python-ish functions over made-up identifiers. Different seeds
// give different files; the same seed always gives the same lines.

class CodeWriter {
 public:
  explicit CodeWriter(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}

  std::vector<std::string> Lines(size_t n) {
    std::vector<std::string> out;
    while (out.size() < n) Function(out);
    out.resize(n);
    return out;
  }

 private:
  uint32_t Next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state_ >> 33);
  }
  const std::string& Pick(const std::vector<std::string>& words) { return words[Next() % words.size()]; }
  std::string Ident() {
    static const std::vector<std::string> a = {"user", "order", "item", "price", "total", "buffer",
                                               "node", "parent", "config", "token", "session",
                                               "request", "cache", "index", "offset", "record"};
    static const std::vector<std::string> b = {"count", "list", "map", "value", "id", "name", "size",
                                               "limit", "state", "queue", "path", "key"};
    return Pick(a) + "_" + Pick(b);
  }
  std::string Number() { return std::to_string(Next() % 1000); }

  void Function(std::vector<std::string>& out) {
    static const std::vector<std::string> verbs = {"compute", "load", "update", "merge", "parse",
                                                   "resolve", "validate", "render", "collect"};
    static const std::vector<std::string> ops = {"+", "-", "*", "//", "%"};
    const std::string fn = Pick(verbs) + "_" + Ident();
    const std::string a = Ident(), b = Ident();
    out.push_back("def " + fn + "(" + a + ", " + b + "=None):");
    out.push_back("    \"\"\"" + Pick(verbs) + " the " + Ident() + " of every " + Ident() + ".\"\"\"");
    const int body = 3 + static_cast<int>(Next() % 6);
    for (int i = 0; i < body; ++i) {
      const std::string v = Ident();
      switch (Next() % 4) {
        case 0:
          out.push_back("    " + v + " = " + a + " " + Pick(ops) + " " + Number());
          break;
        case 1:
          out.push_back("    if " + v + " > " + Number() + ":");
          out.push_back("        " + b + " = " + Pick(verbs) + "_" + Ident() + "(" + v + ", " + a + ")");
          break;
        case 2:
          out.push_back("    for " + v + " in range(" + Number() + "):");
          out.push_back("        " + a + " += " + v + " " + Pick(ops) + " " + Number());
          break;
        default:
          out.push_back("    " + v + " = self." + Ident() + ".get(\"" + Ident() + "\", " + Number() + ")");
      }
    }
    out.push_back("    return " + a + " " + Pick(ops) + " " + Number());
    out.push_back("");
  }

  uint64_t state_;
};

std::string Join(const std::vector<std::string>& lines, size_t from, size_t to) {
  std::string s;
  for (size_t i = from; i < to && i < lines.size(); ++i) s += lines[i] + "\n";
  return s;
}

// ---------------------------------------------------------------------------------------------

class Server {
 public:
  Server(std::string url, bool keep_alive) : url_(std::move(url)), keep_alive_(keep_alive) {}

  std::unique_ptr<httplib::Client> NewClient() const {
    auto c = std::make_unique<httplib::Client>(url_);
    c->set_keep_alive(keep_alive_);  // as editors' HTTP clients do
    c->set_tcp_nodelay(true);         // as curl does
    c->set_connection_timeout(10);
    c->set_read_timeout(600);
    c->set_write_timeout(600);
    return c;
  }

  // POST path body (non-streamed); the parsed body, or nullopt with `error` set.
  std::optional<Json> Post(httplib::Client& c, const std::string& path, const Json& body,
                           std::string* error) const {
    httplib::Result r = c.Post(path, body.dump(), "application/json");
    if (!r) {
      *error = path + ": " + httplib::to_string(r.error());
      return std::nullopt;
    }
    if (r->status != 200) {
      *error = path + ": HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 300);
      return std::nullopt;
    }
    Json j = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      *error = path + ": not JSON: " + r->body.substr(0, 300);
      return std::nullopt;
    }
    if (j.is_array() && !j.empty()) j = j[0];
    return j;
  }

  int CountTokens(httplib::Client& c, const std::string& text) const {
    std::string error;
    std::optional<Json> j = Post(c, "/tokenize", {{"content", text}, {"add_special", false}}, &error);
    if (!j || !j->contains("tokens") || !(*j)["tokens"].is_array()) {
      std::fprintf(stderr, "serve_bench: /tokenize failed: %s\n", error.c_str());
      std::exit(1);
    }
    return static_cast<int>((*j)["tokens"].size());
  }

  // The id of " ": the FIM requests bias it up so that both servers generate text that is valid
  // UTF-8 (llama-server fails a request whose random-weight output is not: "does not match the
  // expected Content-only format"); the compute is the same whatever the tokens are.
  int SpaceToken(httplib::Client& c) const {
    std::string error;
    std::optional<Json> j = Post(c, "/tokenize", {{"content", " "}, {"add_special", false}}, &error);
    if (!j || !j->contains("tokens") || (*j)["tokens"].empty()) {
      std::fprintf(stderr, "serve_bench: /tokenize failed: %s\n", error.c_str());
      std::exit(1);
    }
    return (*j)["tokens"][0].get<int>();
  }

  // The first `n` lines of `lines`, n chosen so the text is about `target` tokens long.
  size_t FitLines(httplib::Client& c, const std::vector<std::string>& lines, int target,
                  int* tokens) const {
    size_t n = std::min<size_t>(lines.size(), std::max(1, target / 8));
    for (int iter = 0; iter < 6; ++iter) {
      *tokens = CountTokens(c, Join(lines, 0, n));
      if (std::abs(*tokens - target) <= std::max(2, target / 100)) break;
      const double per_line = static_cast<double>(*tokens) / static_cast<double>(n);
      n = std::clamp<size_t>(static_cast<size_t>(std::lround(target / per_line)), 1, lines.size());
    }
    *tokens = CountTokens(c, Join(lines, 0, n));
    return n;
  }

  const std::string& url() const { return url_; }

 private:
  std::string url_;
  bool keep_alive_;
};

struct StreamResult {
  bool ok = false;
  std::string error;
  double ttft_s = kNaN;   // request sent -> first data event with content or stop
  double total_s = kNaN;  // request sent -> response complete
  Json final;             // the stop event
};

StreamResult PostStream(httplib::Client& c, const std::string& path, Json body) {
  body["stream"] = true;
  StreamResult out;
  std::string buffer;
  bool first_seen = false;
  const Clock::time_point start = Clock::now();
  auto on_event = [&](const std::string& event) {
    // An event is one or more lines; we read `data: {json}` and `error: {json}`.
    std::istringstream lines(event);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("error:", 0) == 0) {
        out.error = "stream error event: " + line.substr(0, 300);
        continue;
      }
      if (line.rfind("data:", 0) != 0) continue;
      std::string payload = line.substr(5);
      if (!payload.empty() && payload[0] == ' ') payload.erase(0, 1);
      if (payload == "[DONE]") continue;
      Json j = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) {
        out.error = "stream event is not JSON: " + payload.substr(0, 300);
        continue;
      }
      if (j.is_object() && j.contains("error")) out.error = "stream error: " + j.dump().substr(0, 300);
      const bool stop = j.value("stop", false);
      const bool content = j.contains("content") && j["content"].is_string() &&
                           !j["content"].get<std::string>().empty();
      if (!first_seen && (stop || content)) {
        first_seen = true;
        out.ttft_s = tune::bench::SecondsSince(start);
      }
      if (stop) out.final = j;
    }
  };
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.set_header("Accept", "text/event-stream");
  int status = 0;
  std::string error_body;
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (status != 200) {
      error_body.append(data, len);
      return true;
    }
    buffer.append(data, len);
    for (size_t pos; (pos = buffer.find("\n\n")) != std::string::npos;) {
      on_event(buffer.substr(0, pos));
      buffer.erase(0, pos + 2);
    }
    return true;
  };
  httplib::Result r = c.send(req);
  out.total_s = tune::bench::SecondsSince(start);
  if (!buffer.empty() && status == 200) on_event(buffer);
  if (!r) {
    out.error = path + ": " + httplib::to_string(r.error());
  } else if (status != 200) {
    out.error = path + ": HTTP " + std::to_string(status) + ": " + error_body.substr(0, 300);
  } else if (out.error.empty() && out.final.is_null()) {
    out.error = path + ": the stream ended without a stop event";
  }
  out.ok = out.error.empty();
  return out;
}

// ---------------------------------------------------------------------------------------------

struct Bench {
  Server server;
  std::string name;
  int rounds = 5;
  int concurrent_seconds = 20;
  int clients = 4;
  int fim_prefix_tokens = 1500;
  Json metrics = Json::object();
  int failures = 0;

  void Report(const std::string& scenario, const std::string& metric, double value) {
    metrics[scenario + "_" + metric] = std::isnan(value) ? Json(nullptr) : Json(value);
    std::printf("%s %s %s %.2f\n", name.c_str(), scenario.c_str(), metric.c_str(), value);
    std::fflush(stdout);
  }
  void Fail(const std::string& scenario, const std::string& error) {
    ++failures;
    std::fprintf(stderr, "serve_bench: %s %s: %s\n", name.c_str(), scenario.c_str(), error.c_str());
  }

  void Decode() {
    auto c = server.NewClient();
    const std::vector<std::string> lines = CodeWriter(1).Lines(200);
    int tokens = 0;
    const std::string prompt = Join(lines, 0, server.FitLines(*c, lines, 64, &tokens));
    std::vector<double> server_rate, client_rate, predicted;
    for (int r = -1; r < rounds; ++r) {  // round -1: warm-up
      const Json body = {{"prompt", prompt},     {"n_predict", 128},     {"temperature", 0},
                         {"ignore_eos", true},   {"cache_prompt", false}};
      std::string error;
      const Clock::time_point start = Clock::now();
      std::optional<Json> j = server.Post(*c, "/completion", body, &error);
      const double wall = tune::bench::SecondsSince(start);
      if (!j) return Fail("decode", error);
      if (r < 0) continue;
      const double n = Num(*j, {"tokens_predicted"});
      predicted.push_back(n);
      server_rate.push_back(Num(*j, {"timings", "predicted_per_second"}));
      client_rate.push_back(n / wall);
    }
    Report("decode", "prompt_tokens", tokens);
    Report("decode", "tokens_predicted", Median(predicted));
    Report("decode", "tok_s", Median(server_rate));
    Report("decode", "tok_s_client", Median(client_rate));
  }

  void Prompt() {
    auto c = server.NewClient();
    const std::vector<std::string> lines = CodeWriter(2).Lines(2000);
    int tokens = 0;
    const std::string text = Join(lines, 0, server.FitLines(*c, lines, 1000, &tokens));
    std::vector<double> server_rate, client_rate, evaluated;
    for (int r = -1; r < rounds; ++r) {
      const std::string prompt = "# request " + std::to_string(r + 1000) + "\n" + text;
      const Json body = {{"prompt", prompt},     {"n_predict", 1},        {"temperature", 0},
                         {"cache_prompt", false}};
      std::string error;
      const Clock::time_point start = Clock::now();
      std::optional<Json> j = server.Post(*c, "/completion", body, &error);
      const double wall = tune::bench::SecondsSince(start);
      if (!j) return Fail("prompt", error);
      if (r < 0) continue;
      const double n = Num(*j, {"timings", "prompt_n"});
      evaluated.push_back(n);
      server_rate.push_back(Num(*j, {"timings", "prompt_per_second"}));
      client_rate.push_back(n / wall);
    }
    Report("prompt", "prompt_tokens", Median(evaluated));
    Report("prompt", "tok_s", Median(server_rate));
    Report("prompt", "tok_s_client", Median(client_rate));
  }

  void Fim() {
    auto c = server.NewClient();
    const std::vector<std::string> lines = CodeWriter(3).Lines(3000);
    int prefix_tokens = 0;
    const size_t n_prefix = server.FitLines(*c, lines, fim_prefix_tokens, &prefix_tokens);
    const std::vector<std::string> after(lines.begin() + static_cast<ptrdiff_t>(n_prefix) + 1,
                                         lines.end());
    int suffix_tokens = 0;
    const std::string suffix = "\n" + Join(after, 0, server.FitLines(*c, after, 100, &suffix_tokens));
    // The edited line: one identifier in the middle of the prefix, three spellings of different
    // token counts, so that consecutive requests differ by a few tokens and the rest shifts.
    const std::vector<std::string> spellings = {"result", "partial_sum_of_values", "acc"};
    const size_t edit = n_prefix / 2;
    auto prefix_for = [&](int r) {
      std::vector<std::string> p(lines.begin(), lines.begin() + static_cast<ptrdiff_t>(n_prefix));
      p[edit] = "    " + spellings[static_cast<size_t>(r) % spellings.size()] + " = sum(order_list)";
      return Join(p, 0, p.size());
    };
    std::vector<double> ttft, total, prompt_n, cache_n, predicted;
    double cold_ttft = kNaN;
    const int space = server.SpaceToken(*c);
    for (int r = -1; r < rounds; ++r) {
      const Json body = {{"id_slot", 0},
                         {"input_prefix", prefix_for(r + 1)},
                         {"input_suffix", suffix},
                         {"input_extra", Json::array()},
                         {"prompt", "    return "},
                         {"n_predict", 16},
                         {"top_k", 40},
                         {"top_p", 0.99},
                         {"temperature", 0},
                         {"ignore_eos", true},
                         {"samplers", {"top_k", "top_p", "infill"}},
                         {"logit_bias", Json::array({Json::array({space, 100})})},
                         {"cache_prompt", true}};
      // A new connection per request: llama-server may close a kept-alive one after a long stream
      // while the client is already sending the next request on it (an httplib "Read" error).
      auto fresh = server.NewClient();
      StreamResult s = PostStream(*fresh, "/infill", body);
      if (!s.ok) return Fail("fim", s.error);
      if (r < 0) {
        cold_ttft = s.ttft_s * 1e3;
        continue;
      }
      ttft.push_back(s.ttft_s * 1e3);
      total.push_back(s.total_s * 1e3);
      prompt_n.push_back(Num(s.final, {"timings", "prompt_n"}));
      cache_n.push_back(Num(s.final, {"timings", "cache_n"}));
      predicted.push_back(Num(s.final, {"tokens_predicted"}));
    }
    Report("fim", "prefix_tokens", prefix_tokens);
    Report("fim", "suffix_tokens", suffix_tokens);
    Report("fim", "cold_ttft_ms", cold_ttft);
    Report("fim", "ttft_ms", Median(ttft));
    Report("fim", "total_ms", Median(total));
    Report("fim", "prompt_n", Median(prompt_n));
    Report("fim", "cache_n", Median(cache_n));
    Report("fim", "tokens_predicted", Median(predicted));
  }

  void Concurrent() {
    struct PerClient {
      std::string prefix, suffix;
      int ok = 0, errors = 0;
      std::vector<double> latency_ms, predicted;
      std::string first_error;
      Clock::time_point last_done;
    };
    std::vector<PerClient> per(static_cast<size_t>(clients));
    {
      auto c = server.NewClient();
      for (int i = 0; i < clients; ++i) {
        const std::vector<std::string> lines = CodeWriter(100 + static_cast<uint64_t>(i)).Lines(400);
        int tokens = 0;
        const size_t n = server.FitLines(*c, lines, 200, &tokens);
        per[static_cast<size_t>(i)].prefix = Join(lines, 0, n);
        per[static_cast<size_t>(i)].suffix = "\n" + Join(lines, n + 1, n + 5);
      }
    }
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + std::chrono::seconds(concurrent_seconds);
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i] {
        PerClient& p = per[static_cast<size_t>(i)];
        auto c = server.NewClient();
        p.last_done = Clock::now();
        for (int k = 0; Clock::now() < deadline; ++k) {
          const Json body = {{"input_prefix", p.prefix},
                             {"input_suffix", p.suffix},
                             {"prompt", "    value_" + std::to_string(k) + " = "},
                             {"n_predict", 16},
                             {"temperature", 0},
                             {"ignore_eos", true},
                             {"samplers", {"top_k", "top_p", "temperature"}},
                             {"cache_prompt", true}};
          std::string error;
          const Clock::time_point t = Clock::now();
          std::optional<Json> j = server.Post(*c, "/infill", body, &error);
          p.last_done = Clock::now();
          if (!j) {
            ++p.errors;
            if (p.first_error.empty()) p.first_error = error;
            if (!c->is_socket_open()) c = server.NewClient();
            continue;
          }
          ++p.ok;
          p.latency_ms.push_back(std::chrono::duration<double, std::milli>(p.last_done - t).count());
          p.predicted.push_back(Num(*j, {"tokens_predicted"}));
        }
      });
    }
    for (std::thread& t : threads) t.join();
    int ok = 0, errors = 0;
    Clock::time_point end = start;
    std::vector<double> latency, predicted;
    for (const PerClient& p : per) {
      ok += p.ok;
      errors += p.errors;
      end = std::max(end, p.last_done);
      latency.insert(latency.end(), p.latency_ms.begin(), p.latency_ms.end());
      predicted.insert(predicted.end(), p.predicted.begin(), p.predicted.end());
      if (!p.first_error.empty()) Fail("concurrent", p.first_error);
    }
    const double seconds = std::chrono::duration<double>(end - start).count();
    Report("concurrent", "clients", clients);
    Report("concurrent", "requests", ok);
    Report("concurrent", "errors", errors);
    Report("concurrent", "req_s", seconds > 0 ? ok / seconds : kNaN);
    Report("concurrent", "p50_ms", Median(latency));
    Report("concurrent", "tokens_predicted", Mean(predicted));
  }
};

// ---------------------------------------------------------------------------------------------
// --baseline A.json --candidate B.json: the side-by-side table.

std::optional<Json> ReadResult(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') last = line;
  }
  Json j = Json::parse(last, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("metrics")) {
    std::fprintf(stderr, "serve_bench: no result JSON line in %s\n", path.c_str());
    return std::nullopt;
  }
  return j;
}

int Compare(const std::string& baseline_path, const std::string& candidate_path,
            const std::string& title) {
  std::optional<Json> base = ReadResult(baseline_path), cand = ReadResult(candidate_path);
  if (!base || !cand) return 1;
  enum Better { kHigher, kLower, kInfo };
  struct Row {
    const char* key;
    const char* label;
    Better better;
    const char* goal;
  };
  const std::vector<Row> rows = {
      {"decode_tok_s", "decode tok/s (server timings)", kHigher, ">= 0.95"},
      {"decode_tok_s_client", "decode tok/s (client, incl. prompt+HTTP)", kHigher, ">= 0.95"},
      {"prompt_tok_s", "prompt tok/s (server timings)", kHigher, ""},
      {"prompt_tok_s_client", "prompt tok/s (client)", kHigher, ""},
      {"prompt_prompt_tokens", "  prompt tokens evaluated", kInfo, ""},
      {"fim_ttft_ms", "FIM TTFT ms, warm, edited prefix", kLower, "<= 1.00"},
      {"fim_total_ms", "FIM request ms, to the stop event", kLower, ""},
      {"fim_tokens_predicted", "  FIM tokens generated / request", kInfo, ""},
      {"fim_prompt_n", "  FIM tokens evaluated / request", kInfo, ""},
      {"fim_cache_n", "  FIM tokens from cache / request", kInfo, ""},
      {"fim_cold_ttft_ms", "FIM TTFT ms, cold (first request)", kLower, ""},
      {"fim_prefix_tokens", "  FIM prefix tokens (/tokenize)", kInfo, ""},
      {"concurrent_req_s", "requests/s, concurrent FIM clients", kHigher, ""},
      {"concurrent_p50_ms", "  p50 request ms, concurrent", kLower, ""},
      {"concurrent_tokens_predicted", "  tokens / request, concurrent", kInfo, ""},
      {"concurrent_errors", "  errors, concurrent", kInfo, ""},
  };
  const std::string bn = base->value("name", "baseline"), cn = cand->value("name", "candidate");
  std::printf("\n%s\n", title.c_str());
  std::printf("%-42s %14s %14s %9s  %s\n", "metric", bn.c_str(), cn.c_str(),
              (cn + "/" + bn).substr(0, 9).c_str(), "better / goal");
  for (const Row& row : rows) {
    const double b = Num((*base)["metrics"], {row.key}), c = Num((*cand)["metrics"], {row.key});
    if (std::isnan(b) && std::isnan(c)) continue;
    char ratio[32] = "";
    if (row.better != kInfo && b > 0 && !std::isnan(c)) std::snprintf(ratio, sizeof ratio, "%.2fx", c / b);
    std::string note = row.better == kHigher ? "higher" : row.better == kLower ? "lower" : "";
    if (row.goal[0] != '\0') note += std::string(", goal ") + row.goal;
    std::printf("%-42s %14.1f %14.1f %9s  %s\n", row.label, b, c, ratio, note.c_str());
  }
  return 0;
}

bool WaitHealthy(const std::string& url, int seconds) {
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    httplib::Client c(url);
    c.set_connection_timeout(1);
    c.set_read_timeout(2);
    httplib::Result r = c.Get("/health");
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, name = "server", scenario = "all", json_out, baseline, candidate;
  std::string title = "tune serve vs llama-server";
  int rounds = 5, concurrent_seconds = 20, clients = 4, fim_prefix_tokens = 1500, wait = 0;
  int keep_alive = 1;
  if (!tune::bench::ParseFlags(argc, argv,
                               {{"--url", &url},
                                {"--name", &name},
                                {"--scenario", &scenario},
                                {"--rounds", &rounds},
                                {"--concurrent-seconds", &concurrent_seconds},
                                {"--clients", &clients},
                                {"--fim-prefix-tokens", &fim_prefix_tokens},
                                {"--json-out", &json_out},
                                {"--wait", &wait},
                                {"--keep-alive", &keep_alive},
                                {"--baseline", &baseline},
                                {"--candidate", &candidate},
                                {"--title", &title}})) {
    return 2;
  }
  if (!baseline.empty() || !candidate.empty()) return Compare(baseline, candidate, title);
  if (url.empty()) {
    std::fprintf(stderr, "serve_bench: --url is required\n");
    return 2;
  }
  if (wait > 0) return WaitHealthy(url, wait) ? 0 : 1;

  Bench b{Server(url, keep_alive != 0), name};
  b.rounds = std::max(1, rounds);
  b.concurrent_seconds = std::max(1, concurrent_seconds);
  b.clients = std::max(1, clients);
  b.fim_prefix_tokens = fim_prefix_tokens;
  const bool all = scenario == "all";
  if (!all && scenario != "decode" && scenario != "prompt" && scenario != "fim" &&
      scenario != "concurrent") {
    std::fprintf(stderr, "serve_bench: --scenario is all, decode, prompt, fim or concurrent\n");
    return 2;
  }
  if (all || scenario == "decode") b.Decode();
  if (all || scenario == "prompt") b.Prompt();
  if (all || scenario == "fim") b.Fim();
  if (all || scenario == "concurrent") b.Concurrent();
  const Json result = {{"name", name}, {"url", url}, {"rounds", b.rounds}, {"metrics", b.metrics}};
  std::printf("%s\n", result.dump().c_str());
  if (!json_out.empty()) std::ofstream(json_out) << result.dump() << "\n";
  return b.failures == 0 ? 0 : 1;
}
