// End-to-end checks of the runner commands of the `tune` binary: `tune complete`, `tune debug
// generate` with a GGUF, and `tune serve` as a process: it announces its port, answers, reloads
// on SIGHUP, and exits 0 on SIGTERM.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "inference/engine.h"
#include "nlohmann/json.hpp"
#include "tests/inference/test_models.h"
#include "tests/support/run_tune.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace tune {
namespace {

using ::testing::HasSubstr;
using tune::testing::RunResult;
using tune::testing::RunTune;
using tune::testing::TempDir;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RunnerCliTest, CompletePrintsWhatTheEngineCompletes) {
  TempDir dir;
  const auto model = testing::ExportTinyFimModel(dir.path(), "Q8_0");
  const std::string prefix = "def total(lines):\n    s = 0\n    for line in lines:\n", suffix = "\n    return s\n";
  std::ofstream(dir / "prefix.py") << prefix;
  std::ofstream(dir / "suffix.py") << suffix;
  RunResult r = RunTune(absl::StrFormat("complete --model %s --prefix-file %s --suffix-file %s --n-predict 12 --threads 1",
                                        model.string(), (dir / "prefix.py").string(), (dir / "suffix.py").string()),
                        /*with_stderr=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  inference::EngineOptions o;
  o.model.path = model;
  o.n_threads = 1;
  auto engine = inference::Engine::Start(o);
  ASSERT_TRUE(engine.ok()) << engine.status();
  inference::CompletionRequest req;
  req.kind = inference::PromptKind::kInfill;
  req.input_prefix = prefix;
  req.input_suffix = suffix;
  req.n_predict = 12;
  req.sampling.temperature = 0;
  auto expected = (*engine)->Run(req);
  ASSERT_TRUE(expected.ok()) << expected.status();
  EXPECT_EQ(r.output, expected->front().content);
  // A model whose vocabulary has no FIM tokens is refused with a clear message.
  const auto no_fim = testing::ExportTinyModel(dir.path(), "tiny-llama", "Q8_0", false);
  RunResult refused = RunTune(absl::StrFormat("complete --model %s --prefix-file %s", no_fim.string(),
                                              (dir / "prefix.py").string()));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.output, HasSubstr("no FIM tokens"));
}

TEST(RunnerCliTest, DebugGenerateOnAGgufEqualsTheHuggingFaceDirectory) {
  TempDir dir;
  const auto model = testing::ExportTinyModel(dir.path(), "tiny-qwen3", "F32", false);
  const std::vector<int32_t> prompt = testing::GreedyPrompt("tiny-qwen3");
  RunResult r = RunTune(absl::StrFormat("debug generate --model %s --ids %s --max-new 16", model.string(),
                                        absl::StrJoin(prompt, ",")),
                        false);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "[" + absl::StrJoin(testing::TuneGreedy("tiny-qwen3", prompt, 16, false), ",") + "]\n");
}

TEST(RunnerCliTest, ServeRefusesMissingModelAndBusyPort) {
  RunResult missing = RunTune("serve --model /nonexistent/model.gguf");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("/nonexistent/model.gguf"));
  EXPECT_EQ(RunTune("serve --model x.gguf --bogus").exit_code, 2);
}

// `tune serve` as a child process with its stderr in a file.
class ServeProcess {
 public:
  ServeProcess(const std::filesystem::path& model, const std::filesystem::path& log) : log_(log) {
    const std::string tune = std::string(TUNE_BINARY_DIR) + "/cli/tune";
    std::vector<std::string> args = {tune, "serve", "--model", model.string(), "--port", "0", "--threads", "1"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ(posix_spawn(&pid_, tune.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The port from "listening on http://127.0.0.1:PORT", waiting for the model to load.
  int Port() {
    const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 600; ++i) {
      std::smatch m;
      const std::string text = ReadFile(log_);
      if (std::regex_search(text, m, listening)) return std::stoi(m[1]);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "tune serve did not start:\n" << ReadFile(log_);
    return 0;
  }
  int Stop(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  pid_t pid() const { return pid_; }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

TEST(RunnerCliTest, ServeAnswersReloadsOnSighupAndStopsOnSigterm) {
  TempDir dir;
  const auto first = testing::ExportTinyFimModel(dir.path(), "Q8_0");
  const std::filesystem::path served = dir / "served.gguf";
  std::filesystem::copy_file(first, served);
  ServeProcess serve(served, dir / "serve.log");
  const int port = serve.Port();
  ASSERT_GT(port, 0);
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto infill = c.Post("/infill", R"({"input_prefix": "def f(x):\n", "input_suffix": "\n", "n_predict": 4})",
                       "application/json");
  ASSERT_TRUE(infill);
  EXPECT_EQ(infill->status, 200) << infill->body;
  EXPECT_TRUE(nlohmann::json::parse(infill->body)["content"].is_string());

  kill(serve.pid(), SIGHUP);
  int reloads = 0;
  for (int i = 0; i < 200 && reloads == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto props = c.Get("/props");
    if (props && props->status == 200) reloads = nlohmann::json::parse(props->body)["reloads"];
  }
  EXPECT_EQ(reloads, 1) << ReadFile(dir / "serve.log");
  EXPECT_EQ(serve.Stop(SIGTERM), 0) << ReadFile(dir / "serve.log");
  EXPECT_THAT(ReadFile(dir / "serve.log"), HasSubstr("reload done"));
}

}  // namespace
}  // namespace tune
