// `tune serve` over loopback: every endpoint, SSE streaming, the exact request bodies of
// llama.vscode, llama.vim, llama.qtcreator, Continue and OpenAI-style FIM clients
// (tests/inference/clients/*.json), malformed and hostile requests, the API key, a client that
// disconnects mid-stream, 16 concurrent clients for 30 s (TUNE_SERVE_SOAK_SECONDS) with no error
// and no leaked slot or memory, and reloads during traffic that lose no request.
#include "inference/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inference/fim_prompt.h"
#include "inference/llama_model.h"
#include "retrieval/index.h"
#include "nlohmann/json.hpp"
#include "tests/inference/test_models.h"
#include "tests/support/temp_dir.h"

namespace tune::inference {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::tune::testing::TempDir;

// A server on a free loopback port with its engine, torn down in order.
class TestServer {
 public:
  TestServer(const std::filesystem::path& model, ServerOptions options = {}, std::vector<LoraSpec> loras = {},
             int32_t slots = 4, const std::filesystem::path& index = {}) {
    engine_ = testing::StartTestEngine(model, std::move(loras), slots, /*slot_ctx=*/1024, /*batch=*/512, index);
    options.port = 0;
    server_ = std::make_unique<Server>(*engine_, options);
    EXPECT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~TestServer() {
    server_->Stop();
    thread_.join();
  }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(120, 0);
    return c;
  }
  int port() const { return server_->port(); }
  Engine& engine() { return *engine_; }

 private:
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

// The `data:` payloads of an SSE body.
std::vector<std::string> SseData(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("data: ", 0) == 0) out.push_back(line.substr(6));
  }
  return out;
}

Json Body(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no response";
  if (!r) return {};
  return Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
}

std::string Post(const httplib::Client& c, const std::string& path, const Json& body, int expect = 200) {
  auto& client = const_cast<httplib::Client&>(c);
  httplib::Result r = client.Post(path, body.dump(), "application/json");
  EXPECT_TRUE(r) << path;
  if (!r) return "";
  EXPECT_EQ(r->status, expect) << path << ": " << r->body;
  return r->body;
}

int64_t RssKiB() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return 0;
}

double Metric(TestServer& s, const std::string& name) {
  httplib::Result r = s.Client().Get("/metrics");
  EXPECT_TRUE(r && r->status == 200);
  if (!r) return -1;
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("tune_" + name + " ", 0) == 0) return std::stod(line.substr(name.size() + 6));
  }
  ADD_FAILURE() << "no metric " << name << " in\n" << r->body;
  return -1;
}

Json Infill(std::string prefix, std::string suffix, int n_predict = 16) {
  return Json{{"input_prefix", prefix}, {"input_suffix", suffix}, {"n_predict", n_predict},
              {"temperature", 0}, {"ignore_eos", true}};
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    model_ = new std::filesystem::path(testing::ExportTinyFimModel(dir_->path(), "Q8_0"));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete dir_;
  }
  static TempDir* dir_;
  static std::filesystem::path* model_;
};
TempDir* ServerTest::dir_ = nullptr;
std::filesystem::path* ServerTest::model_ = nullptr;

TEST_F(ServerTest, InfoEndpointsDescribeTheModel) {
  TestServer s(*model_);
  httplib::Client c = s.Client();
  EXPECT_EQ(Body(c.Get("/health")), (Json{{"status", "ok"}}));
  Json models = Body(c.Get("/v1/models"));
  EXPECT_EQ(models["data"][0]["id"], "tiny-fim-Q8_0.gguf");
  EXPECT_EQ(models["data"][0]["meta"]["n_vocab"], 512);
  Json props = Body(c.Get("/props"));
  EXPECT_EQ(props["total_slots"], 4);
  EXPECT_EQ(props["infill"], true);
  EXPECT_EQ(Body(c.Get("/slots")).size(), 4u);
  EXPECT_EQ(Body(c.Get("/lora-adapters")), Json::array());
  EXPECT_GE(Metric(s, "requests_total"), 0);
}

TEST_F(ServerTest, TokenizeAndDetokenizeRoundTrip) {
  TestServer s(*model_);
  httplib::Client c = s.Client();
  Json ids = Json::parse(Post(c, "/tokenize", {{"content", "def total(lines):\n    return 0\n"}}));
  ASSERT_GT(ids["tokens"].size(), 3u);
  EXPECT_EQ(ids["tokens"].get<std::vector<int32_t>>(), s.engine().Tokenize("def total(lines):\n    return 0\n", false, true));
  // SentencePiece's dummy prefix comes back as a leading space, as from llama.cpp's server.
  Json text = Json::parse(Post(c, "/detokenize", {{"tokens", ids["tokens"]}}));
  EXPECT_EQ(text["content"], " def total(lines):\n    return 0\n");
  Json special = Json::parse(Post(c, "/tokenize", {{"content", "<fim_prefix>"}}));
  EXPECT_EQ(special["tokens"].size(), 1u);
  Json pieces = Json::parse(Post(c, "/tokenize", {{"content", "def"}, {"with_pieces", true}}));
  EXPECT_TRUE(pieces["tokens"][0].contains("piece"));
}

TEST_F(ServerTest, InfillUsesTheTrainingLayoutAndAnswersLikeLlamaCpp) {
  TestServer s(*model_);
  httplib::Client c = s.Client();
  Json request = Infill("def total(lines):\n    s = 0\n", "\n    return s\n");
  request["input_extra"] = Json::array({Json{{"filename", "util.py"}, {"text", "def helper():\n    pass\n"}}});
  Json r = Json::parse(Post(c, "/infill", request));
  EXPECT_TRUE(r["content"].is_string());
  EXPECT_EQ(r["stop"], true);
  EXPECT_EQ(r["tokens_predicted"], 16);
  EXPECT_EQ(r["stop_type"], "limit");
  // BOS, then data/fim.cc's repo layout; SentencePiece's dummy prefix shows as a space after
  // each sentinel, as in training (tests/inference/fim_layout_test.cc compares the token ids).
  EXPECT_EQ(r["prompt"].get<std::string>(),
            "<s><repo_name> myproject\n<file_sep> util.py\ndef helper():\n    pass\n\n<file_sep> filename\n"
            "<fim_prefix> def total(lines):\n    s = 0\n<fim_suffix> \n    return s\n<fim_middle>");
  EXPECT_GT(r["timings"]["prompt_n"].get<int>(), 10);
  // The same request again is served from the slot's cache.
  Json again = Json::parse(Post(c, "/infill", request));
  EXPECT_EQ(again["content"], r["content"]);
  EXPECT_GT(again["timings"]["cache_n"].get<int>(), 10);
}

// --index: the definition of the helper called at the cursor joins the prompt as a repo-context
// chunk right before the file, with its time in the timings and /metrics; chunks the client
// sent, or of the file itself, are not added again; /admin/reload re-reads the index.
TEST_F(ServerTest, IndexAddsRetrievedChunksToInfillAndReloadsWithTheModel) {
  TempDir index_dir;
  const std::string money = "def parse_money(text):\n    return int(text)\n";
  auto write_index = [&](int extra_files) {
    std::vector<retrieval::IndexedFile> files = {
        {"lib/money.py", "python", "", false, {{1, money, {"parse_money"}}}},
        {"lib/colors.py", "python", "", false, {{1, "RED = 1\nGREEN = 2\n", {}}}}};
    for (int i = 0; i < extra_files; ++i) {
      files.push_back({"lib/x" + std::to_string(i) + ".py", "python", "", false, {{1, "Y = 1\n", {}}}});
    }
    ASSERT_TRUE(retrieval::Index("c", "shop", files).Write(index_dir.path()).ok());
  };
  write_index(0);
  TestServer s(*model_, {}, {}, 1, index_dir.path());
  httplib::Client c = s.Client();
  const Json request = Infill("import money\n\ndef price(text):\n    value = money.parse_money(", ")\n", 4);
  Json r = Json::parse(Post(c, "/infill", request));
  EXPECT_THAT(r["prompt"].get<std::string>(),
              HasSubstr("<file_sep> lib/money.py\n" + money + "\n<file_sep> filename\n<fim_prefix>"));
  EXPECT_EQ(r["timings"]["retrieved_n"], 1);
  EXPECT_GT(r["timings"]["retrieval_ms"].get<double>(), 0.0);
  EXPECT_EQ(Metric(s, "retrieval_requests_total"), 1);
  EXPECT_EQ(Metric(s, "retrieved_chunks_total"), 1);

  Json sent = request;
  sent["input_extra"] = Json::array({Json{{"filename", "lib/money.py"}, {"text", money}}});
  r = Json::parse(Post(c, "/infill", sent));
  EXPECT_EQ(r["timings"]["retrieved_n"], 0);
  const std::string prompt = r["prompt"].get<std::string>();
  EXPECT_EQ(prompt.find("def parse_money"), prompt.rfind("def parse_money"));
  Json own = request;
  own["filename"] = "lib/money.py";
  EXPECT_EQ(Json::parse(Post(c, "/infill", own))["timings"]["retrieved_n"], 0);
  // Raw completions are not searched.
  Post(c, "/completion", Json{{"prompt", "value = money.parse_money("}, {"n_predict", 2}});
  EXPECT_EQ(Metric(s, "retrieval_requests_total"), 3);

  Json props = Json::parse(s.Client().Get("/props")->body);
  EXPECT_EQ(props["index"]["chunks"], 2);
  write_index(3);
  Post(c, "/admin/reload", Json::object());
  props = Json::parse(s.Client().Get("/props")->body);
  EXPECT_EQ(props["index"]["chunks"], 5);
}

TEST_F(ServerTest, StreamedCompletionAddsUpToTheNonStreamedOne) {
  TestServer s(*model_);
  httplib::Client c = s.Client();
  Json request{{"prompt", "import os\n"}, {"n_predict", 24}, {"temperature", 0}, {"ignore_eos", true}};
  Json whole = Json::parse(Post(c, "/completion", request));
  request["stream"] = true;
  httplib::Result r = c.Post("/completion", request.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  std::string streamed;
  std::vector<std::string> events = SseData(r->body);
  ASSERT_GE(events.size(), 2u);
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    Json e = Json::parse(events[i]);
    EXPECT_EQ(e["stop"], false);
    streamed += e["content"].get<std::string>();
  }
  EXPECT_EQ(Json::parse(events.back())["stop"], true);
  EXPECT_EQ(streamed, whole["content"].get<std::string>());
}

TEST_F(ServerTest, OpenAiCompletionsWithSuffixIsInfill) {
  TestServer s(*model_);
  httplib::Client c = s.Client();
  const std::string prefix = "def add(a, b):\n", suffix = "\n\nprint(add(1, 2))\n";
  Json infill = Json::parse(Post(c, "/infill", Infill(prefix, suffix, 12)));
  Json openai = Json::parse(Post(c, "/v1/completions", {{"prompt", prefix}, {"suffix", suffix}, {"max_tokens", 12},
                                                         {"temperature", 0}, {"ignore_eos", true}}));
  EXPECT_EQ(openai["object"], "text_completion");
  EXPECT_EQ(openai["choices"][0]["text"], infill["content"]);
  EXPECT_EQ(openai["choices"][0]["finish_reason"], "length");
  httplib::Result r = c.Post("/v1/completions",
                             Json{{"prompt", prefix}, {"max_tokens", 8}, {"stream", true}}.dump(), "application/json");
  ASSERT_TRUE(r);
  std::vector<std::string> events = SseData(r->body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
}

TEST_F(ServerTest, ExactClientRequestBodiesAreAnswered) {
  TestServer s(*model_);
  httplib::Client c = s.Client();
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::SourcePath("tests/inference/clients"))) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    std::ifstream in(entry.path());
    const Json fixture = Json::parse(in);
    httplib::Headers headers;
    const Json fixture_headers = fixture.value("headers", Json::object());
    for (const auto& [k, v] : fixture_headers.items()) {
      if (k != "Content-Type") headers.emplace(k, v.get<std::string>());
    }
    httplib::Result r = c.Post(fixture["path"].get<std::string>(), headers, fixture["body"].dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    ++checked;
    const Json& body = fixture["body"];
    if (body.value("stream", false)) {
      std::vector<std::string> events = SseData(r->body);
      ASSERT_FALSE(events.empty()) << r->body;
      continue;
    }
    // llama.vim only accepts compact JSON that contains "content":" literally.
    const Json response = Json::parse(r->body);
    if (body.value("n_cmpl", 1) > 1) {
      ASSERT_TRUE(response.is_array());
      EXPECT_EQ(response.size(), body["n_cmpl"].get<size_t>());
      continue;
    }
    if (body.contains("response_fields") && body["response_fields"] == Json::array({""})) {
      EXPECT_EQ(response, Json::object());
      continue;
    }
    EXPECT_THAT(r->body, StartsWith("{"));
    EXPECT_THAT(r->body, HasSubstr("\"content\":\""));
    if (body.value("n_predict", 1) == 0) {
      EXPECT_EQ(response["content"], "");
    }
    if (body.contains("response_fields")) {
      EXPECT_TRUE(response.contains("timings/prompt_n")) << r->body;
    }
  }
  EXPECT_GE(checked, 8);
}

TEST_F(ServerTest, MalformedAndHostileRequestsGetJsonErrors) {
  ServerOptions options;
  options.max_body_bytes = 64 << 10;
  TestServer s(*model_, options);
  httplib::Client c = s.Client();
  struct Case {
    std::string path, body;
    int code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"/completion", "{\"prompt\": ", 400, "JSON"},
      {"/completion", "[1,2,3]", 400, ""},
      {"/completion", R"({"prompt": "x", "n_predict": "many"})", 400, "n_predict"},
      {"/completion", R"({"prompt": [1, 2, 99999]})", 400, "99999"},
      {"/completion", R"({"prompt": [-1]})", 400, ""},
      {"/completion", R"({"prompt": []})", 400, ""},
      {"/completion", R"({"prompt": "x", "n_predict": 1000000000})", 400, "n_predict"},
      {"/completion", R"({"prompt": "x", "temperature": 1e999})", 400, ""},
      {"/completion", R"({"prompt": "x", "id_slot": 99})", 400, "id_slot"},
      {"/infill", R"({"input_prefix": 3, "input_suffix": ""})", 400, "input_prefix"},
      {"/infill", R"({"input_prefix": "", "input_suffix": "", "input_extra": "x"})", 400, "input_extra"},
      {"/tokenize", R"({"content": 5})", 400, "content"},
      {"/detokenize", R"({"tokens": [1, 600]})", 400, "600"},
      {"/lora-adapters", R"([{"id": 3, "scale": 1}])", 400, "lora"},
      {"/completion", std::string(100 << 10, ' '), 413, ""},
      {"/nowhere", "{}", 404, "nowhere"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.path + " " + k.body.substr(0, 60));
    httplib::Result r = c.Post(k.path, k.body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, k.code) << r->body;
    const Json j = Json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.contains("error")) << r->body;
    EXPECT_EQ(j["error"]["code"], k.code);
    EXPECT_THAT(j["error"]["message"].get<std::string>(), HasSubstr(k.says));
  }
  // DNS rebinding: a page on another host cannot reach the loopback server through its name.
  httplib::Result evil = c.Get("/health", {{"Host", "attacker.example:8012"}});
  ASSERT_TRUE(evil);
  EXPECT_EQ(evil->status, 403);
  // No CORS headers unless asked for.
  httplib::Result cors = c.Get("/health", {{"Origin", "http://attacker.example"}});
  ASSERT_TRUE(cors);
  EXPECT_FALSE(cors->has_header("Access-Control-Allow-Origin"));
  // Still serving.
  EXPECT_EQ(Body(c.Get("/health"))["status"], "ok");
}

TEST_F(ServerTest, ApiKeyGuardsEverythingButHealthAndModels) {
  ServerOptions options;
  options.api_key = "sekrit-key";
  TestServer s(*model_, options);
  httplib::Client c = s.Client();
  const std::string body = Infill("a = ", "\n", 2).dump();
  httplib::Result none = c.Post("/infill", body, "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(Body(none)["error"]["type"], "authentication_error");
  httplib::Result wrong = c.Post("/infill", {{"Authorization", "Bearer sekrit-kez"}}, body, "application/json");
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(c.Post("/infill", {{"Authorization", "Bearer sekrit-key"}}, body, "application/json")->status, 200);
  EXPECT_EQ(c.Post("/infill", {{"X-Api-Key", "sekrit-key"}}, body, "application/json")->status, 200);
  EXPECT_EQ(c.Get("/health")->status, 200);
  EXPECT_EQ(c.Get("/v1/models")->status, 200);
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  EXPECT_EQ(c.Post("/admin/reload", "", "application/json")->status, 401);
}

TEST_F(ServerTest, ClientThatDisconnectsMidStreamFreesItsSlot) {
  TestServer s(*model_, {}, {}, /*slots=*/1);
  const std::string body = Json{{"prompt", "x = "}, {"n_predict", 3000}, {"ignore_eos", true},
                                {"stream", true}, {"temperature", 0}}.dump();
  const std::string request = "POST /completion HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(s.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char buf[4096];
  std::string got;
  while (got.find("data: ") == std::string::npos) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Metric(s, "requests_cancelled_total") < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Metric(s, "requests_cancelled_total"), 1);
  EXPECT_EQ(Metric(s, "requests_processing"), 0);
  EXPECT_LT(Metric(s, "tokens_predicted_total"), 3000);
  // The only slot serves the next client.
  EXPECT_TRUE(Json::parse(Post(s.Client(), "/infill", Infill("a", "b", 4)))["content"].is_string());
}

// One client of the soak and reload tests: a mix of what IDE clients send, until `stop`.
void ClientLoop(const TestServer& s, int id, const std::atomic<bool>& stop, std::atomic<int>& ok,
                std::atomic<int>& failed) {
  httplib::Client c = s.Client();
  for (int i = 0; !stop; ++i) {
    const std::string prefix = "def f" + std::to_string(id) + "_" + std::to_string(i % 5) + "(x):\n    y = ";
    auto send = [&]() {
      switch (i % 3) {
        case 0:
          return c.Post("/infill", Infill(prefix, "\n    return y\n", 8).dump(), "application/json");
        case 1:
          return c.Post("/completion", Json{{"prompt", prefix}, {"n_predict", 8}, {"stream", true}}.dump(),
                        "application/json");
        default:
          return c.Post("/v1/completions", Json{{"prompt", prefix}, {"suffix", "\n"}, {"max_tokens", 8}}.dump(),
                        "application/json");
      }
    };
    httplib::Result r = send();
    if (r && r->status == 200 && r->body.find("\"error\"") == std::string::npos) {
      ++ok;
    } else {
      ++failed;
      ADD_FAILURE() << "client " << id << " request " << i << ": "
                    << (r ? std::to_string(r->status) + " " + r->body
                          : "no response (httplib error " + httplib::to_string(r.error()) + ")");
    }
  }
}

TEST_F(ServerTest, SixteenClientsForThirtySecondsWithoutErrorOrLeak) {
  const char* env = std::getenv("TUNE_SERVE_SOAK_SECONDS");
  const int seconds = env != nullptr ? std::atoi(env) : 30;
  TestServer s(*model_);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) clients.emplace_back([&, i] { ClientLoop(s, i, stop, ok, failed); });
  std::this_thread::sleep_for(std::chrono::seconds(std::max(1, seconds / 3)));
  const int64_t rss_warm = RssKiB();
  std::this_thread::sleep_for(std::chrono::seconds(seconds - std::max(1, seconds / 3)));
  stop = true;
  for (std::thread& t : clients) t.join();
  const int64_t rss_end = RssKiB();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 16);
  EXPECT_EQ(Metric(s, "requests_processing"), 0);
  EXPECT_EQ(Metric(s, "requests_deferred"), 0);
  const Json slots = Body(s.Client().Get("/slots"));
  ASSERT_EQ(slots.size(), 4u);
  for (const Json& slot : slots) EXPECT_EQ(slot["is_processing"], false);
  EXPECT_LT(rss_end - rss_warm, 32 * 1024) << "RSS grew from " << rss_warm << " to " << rss_end << " KiB";
  std::printf("soak: %d requests in %d s from 16 clients, RSS %lld -> %lld KiB\n", ok.load(), seconds,
              static_cast<long long>(rss_warm), static_cast<long long>(rss_end));
}

TEST_F(ServerTest, ReloadDuringTrafficLosesNoRequest) {
  TestServer s(*model_);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i) clients.emplace_back([&, i] { ClientLoop(s, i, stop, ok, failed); });
  httplib::Client admin = s.Client();
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    Json r = Json::parse(Post(admin, "/admin/reload", Json::object()));
    EXPECT_EQ(r["reloads"], i + 1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 6);
}

TEST(ServerLoraTest, AdaptersAreListedAndRescaledOverHttp) {
  TempDir dir;
  const auto base = testing::ExportTinyModel(dir.path(), "tiny-llama", "F32", false);
  const auto lora = testing::ExportTinyModel(dir.path(), "tiny-llama", "F32", true, /*adapter_only=*/true);
  TestServer s(base, {}, {{lora, 1.0f}});
  httplib::Client c = s.Client();
  Json list = Body(c.Get("/lora-adapters"));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["scale"], 1.0);
  const std::vector<int32_t> prompt = testing::GreedyPrompt("tiny-llama");
  ASSERT_NE(testing::TuneGreedy("tiny-llama", prompt, 16, true), testing::TuneGreedy("tiny-llama", prompt, 16, false));
  const Json request{{"prompt", prompt}, {"n_predict", 16}, {"temperature", 0}, {"ignore_eos", true},
                     {"return_tokens", true}};
  EXPECT_EQ(Json::parse(Post(c, "/completion", request))["tokens"].get<std::vector<int32_t>>(),
            testing::TuneGreedy("tiny-llama", prompt, 16, true));
  Post(c, "/lora-adapters", Json::array({Json{{"id", 0}, {"scale", 0.0}}}));
  EXPECT_EQ(Body(c.Get("/lora-adapters"))[0]["scale"], 0.0);
  EXPECT_EQ(Json::parse(Post(c, "/completion", request))["tokens"].get<std::vector<int32_t>>(),
            testing::TuneGreedy("tiny-llama", prompt, 16, false));
}

}  // namespace
}  // namespace tune::inference
