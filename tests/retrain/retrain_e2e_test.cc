// `tune retrain` end to end on the CPU with the tiny model: promotion and hot reload in a running
// `tune serve`, rejection of a worse candidate, rollback, a warm start from the served adapter,
// and kill -9 in every stage.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "tests/data/generated_repos.h"
#include "tests/data/test_repo.h"
#include "tests/support/run_tune.h"
#include "tests/support/temp_dir.h"

namespace tune {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using tune::testing::ConventionsRepo;
using tune::testing::FixturePath;
using tune::testing::RunResult;
using tune::testing::RunTune;
using tune::testing::SourcePath;
using tune::testing::TempDir;
using tune::testing::TestRepo;

std::string Bytes(const std::filesystem::path& path) { return core::ReadFile(path).value_or(""); }

json State(const std::filesystem::path& dir) {
  return json::parse(Bytes(dir / "state.json"), nullptr, false);
}

class RetrainEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = tune::testing::MakeTinyBase(tmp_ / "base");
    repo_ = std::make_unique<TestRepo>(tmp_ / "repo");
    dir_ = tmp_ / "retrain";
  }

  // The retrain command line; `extra` adds flags (--set ...) or replaces nothing.
  std::string Command(const std::string& extra = "") const {
    return absl::StrFormat(
        "retrain --repo %s --dir %s --base %s --config %s --set ingest.eval_fraction=0.2 --set train.steps=%d "
        "--set retrain.fim_order=spm --set retrain.tasks_per_kind=15 --quiet %s %s",
        repo_->path().string(), dir_.string(), base_, SourcePath("configs/tiny.toml").string(), steps_, always_, extra);
  }

  RunResult Retrain(const std::string& extra = "") const { return RunTune(Command(extra)); }

  // Starts `tune retrain` in the background and returns its pid.
  pid_t StartRetrain(const std::string& env) const {
    const std::filesystem::path pid_file = tmp_ / "retrain.pid";
    const std::string cmd = absl::StrFormat("%s %s/cli/tune %s > %s 2>&1 & echo $! > %s", env, TUNE_BINARY_DIR,
                                            Command(), (tmp_ / "bg.log").string(), pid_file.string());
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return static_cast<pid_t>(std::atol(Bytes(pid_file).c_str()));
  }

  TempDir tmp_;
  std::string base_;
  std::unique_ptr<TestRepo> repo_;
  std::filesystem::path dir_;
  int steps_ = 300;
  std::string always_;  // extra flags of every run
};

// A running `tune serve` on served.gguf; stopped with the test.
class Server {
 public:
  Server(const TempDir& tmp, const std::filesystem::path& model) : log_(tmp / "serve.log") {
    const std::string cmd =
        absl::StrFormat("%s/cli/tune serve --model %s --port 0 --threads 2 --spm-infill > %s 2>&1 & echo $! > %s",
                        TUNE_BINARY_DIR, model.string(), log_.string(), (tmp / "serve.pid").string());
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    pid_ = static_cast<pid_t>(std::atol(Bytes(tmp / "serve.pid").c_str()));
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const std::string text = Bytes(log_);
      const size_t at = text.find("listening on http://127.0.0.1:");
      if (at != std::string::npos) port_ = std::atoi(text.c_str() + at + 30);
    }
    EXPECT_GT(port_, 0) << Bytes(log_);
  }
  ~Server() { kill(pid_, SIGTERM); }
  std::string url() const { return absl::StrFormat("http://127.0.0.1:%d", port_); }
  json Get(const std::string& path) const {
    httplib::Client c = Client();
    httplib::Result r = c.Get(path);
    return r ? json::parse(r->body, nullptr, false) : json();
  }
  static constexpr char kPrefix[] =
      "# zq service module quota_9\nfrom zq_runtime import zq_guard, zq_emit, ZqContext\n\nZQ_MODULE = \"quota_9\"\n\n\n"
      "@zq_guard(retries=3, module=ZQ_MODULE)\ndef load_user(ctx: ZqContext, payload):\n    zq_emit(ctx, \"enter\", mod";
  // One greedy infill of kPrefix: the completion text.
  std::string Infill() const {
    httplib::Client c = Client();
    json body = {{"input_prefix", kPrefix},
                 {"input_suffix", "\n"}, {"n_predict", 24}, {"temperature", 0}, {"cache_prompt", false}};
    httplib::Result r = c.Post("/infill", body.dump(), "application/json");
    return r ? json::parse(r->body, nullptr, false).value("content", "") : "";
  }

 private:
  // httplib's default 5 s read timeout ran out on a machine loaded by the rest of CTest (the
  // request then reads as an empty completion); a slow answer is not what this test checks.
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    return c;
  }
  std::filesystem::path log_;
  pid_t pid_ = 0;
  int port_ = 0;
};

// The must-show: promote after a new commit into a running server without a restart; reject a
// worse candidate leaving the served file byte for byte; roll back.
TEST_F(RetrainEndToEnd, PromotesIntoARunningServerRejectsWorseAndRollsBack) {
  repo_->Commit(ConventionsRepo(40), 1700000000);
  RunResult first = Retrain();
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("promoted: r0001"));
  EXPECT_EQ(Bytes(dir_ / "served.gguf"), Bytes(dir_ / "versions/r0001/model.gguf"));
  RunResult again = Retrain();
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.output, HasSubstr("nothing to do"));

  Server server(tmp_, dir_ / "served.gguf");
  const std::string before = server.Infill();
  repo_->Commit(ConventionsRepo(60, 8), 1700001000);
  RunResult second = Retrain("--serve-url " + server.url());
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_THAT(second.output, HasSubstr("promoted: r0002"));
  EXPECT_THAT(second.output, HasSubstr("reloaded"));
  EXPECT_EQ(server.Get("/props")["reloads"], 1) << "the server reloaded, no restart";
  // The server now answers with r0002: the same greedy completion as r0002's own file.
  tune::testing::WriteTestFile(tmp_ / "prefix.py", Server::kPrefix);
  tune::testing::WriteTestFile(tmp_ / "suffix.py", "\n");
  RunResult direct = RunTune(absl::StrFormat(
      "complete --model %s --spm-infill --threads 2 --n-predict 24 --prefix-file %s --suffix-file %s",
      (dir_ / "versions/r0002/model.gguf").string(), (tmp_ / "prefix.py").string(), (tmp_ / "suffix.py").string()),
      false);
  ASSERT_EQ(direct.exit_code, 0);
  EXPECT_EQ(server.Infill(), direct.output) << "r0001 answered: " << before;

  // A forced-worse candidate: one training step at a tiny learning rate is the untrained base.
  const std::string served = Bytes(dir_ / "served.gguf");
  repo_->Commit(ConventionsRepo(61, 9), 1700002000);
  RunResult worse = Retrain("--set train.steps=1 --set train.warmup_steps=0 --set train.lr=1e-6 --serve-url " + server.url());
  ASSERT_EQ(worse.exit_code, 0) << worse.output;
  EXPECT_THAT(worse.output, HasSubstr("rejected: r0003"));
  EXPECT_EQ(Bytes(dir_ / "served.gguf"), served) << "byte for byte unchanged";
  EXPECT_EQ(server.Get("/props")["reloads"], 1);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "versions/r0003")) << "a rejected candidate is not kept";

  RunResult back = RunTune(absl::StrFormat("retrain --dir %s --rollback --serve-url %s", dir_.string(), server.url()));
  ASSERT_EQ(back.exit_code, 0) << back.output;
  EXPECT_THAT(back.output, HasSubstr("rolled back from r0002 to r0001"));
  EXPECT_EQ(Bytes(dir_ / "served.gguf"), Bytes(dir_ / "versions/r0001/model.gguf"));
  EXPECT_EQ(server.Get("/props")["reloads"], 2);
  EXPECT_EQ(State(dir_)["served"], "r0001");

  RunResult status = RunTune(absl::StrFormat("retrain --dir %s --status", dir_.string()));
  EXPECT_EQ(status.exit_code, 0);
  for (const char* word : {"promoted", "rejected", "rollback", "served: r0001"}) {
    EXPECT_THAT(status.output, HasSubstr(word));
  }
  // Nothing older to go back to.
  RunResult none = RunTune(absl::StrFormat("retrain --dir %s --rollback", dir_.string()));
  EXPECT_NE(none.exit_code, 0);
  EXPECT_THAT(none.output, HasSubstr("no earlier promoted version"));

  // retrain.warm_start: the forced-worse settings above (one step at lr 1e-6, here given as
  // retrain.warm_steps and retrain.warm_lr), now starting from the served adapter (r0001 after
  // the rollback), give the served model again, which passes the gate.
  repo_->Commit(ConventionsRepo(62, 10), 1700003000);
  RunResult warm = Retrain("--set retrain.warm_steps=1 --set train.warmup_steps=0 --set retrain.warm_lr=1e-6 "
                           "--set retrain.warm_start=true --set retrain.margin=0.02 --serve-url " + server.url());
  ASSERT_EQ(warm.exit_code, 0) << warm.output;
  EXPECT_THAT(warm.output, HasSubstr("promoted: r0004"));
  const json run = json::parse(Bytes(dir_ / "versions/r0004/adapter/run.json"), nullptr, false);
  EXPECT_EQ(run["settings"].value("init_adapter", ""), (dir_ / "versions/r0001/adapter").string());
  EXPECT_EQ(run["result"].value("steps", 0), 1) << "retrain.warm_steps, not train.steps";
  EXPECT_EQ(run["settings"]["train"].value("lr", 0.0), 1e-6) << "retrain.warm_lr, not train.lr";
}

// kill -9 in each stage leaves served.gguf and state.json consistent, and the next run finishes.
TEST_F(RetrainEndToEnd, KillNineInEveryStageIsRecoveredByTheNextRun) {
  steps_ = 120;
  always_ = "--set retrain.margin=1";  // every finished candidate is promoted, so each run reaches swap
  repo_->Commit(ConventionsRepo(30), 1700000000);
  ASSERT_EQ(Retrain().exit_code, 0);
  int commit = 1;
  for (const std::string stage : {"ingest", "train", "eval", "export", "swap"}) {
    SCOPED_TRACE(stage);
    const std::string served = Bytes(dir_ / "served.gguf");
    const std::string served_id = State(dir_)["served"];
    repo_->Commit(ConventionsRepo(30 + commit, 20 + commit), 1700000000 + 1000 * commit);
    ++commit;
    // In train, kill mid-training (after a checkpoint); elsewhere where the stage begins.
    const pid_t pid = StartRetrain(stage == "train" ? "" : "TUNE_RETRAIN_HOLD=" + stage);
    bool reached = false;
    for (int i = 0; i < 6000 && !reached; ++i) {  // up to 5 minutes: ingest and train before eval, on a loaded machine
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      json s = State(dir_);
      if (!s.is_object() || !s["pending"].is_object() || s["pending"]["stage"] != stage) continue;
      if (stage == "train") {
        const std::filesystem::path checkpoints = dir_ / "versions" / s["pending"]["id"].get<std::string>() / "adapter/checkpoints";
        std::error_code ec;
        reached = std::filesystem::exists(checkpoints, ec) && !std::filesystem::is_empty(checkpoints, ec);
      } else {
        reached = Bytes(tmp_ / "bg.log").find("holding before " + stage) != std::string::npos;
      }
    }
    ASSERT_TRUE(reached) << Bytes(tmp_ / "bg.log");
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(Bytes(dir_ / "served.gguf"), served) << "the served file is untouched";
    json s = State(dir_);
    ASSERT_TRUE(s.is_object()) << "state.json is whole";
    EXPECT_EQ(s["served"], served_id);
    EXPECT_EQ(s["pending"]["stage"], stage);
    RunResult next = Retrain();
    ASSERT_EQ(next.exit_code, 0) << next.output;
    EXPECT_THAT(next.output, ::testing::AnyOf(HasSubstr("promoted"), HasSubstr("rejected")));
    EXPECT_TRUE(State(dir_)["pending"].is_null());
    if (stage == "train") {
      const std::string id = State(dir_)["runs"].back()["id"];
      EXPECT_THAT(Bytes(dir_ / "logs" / (id + ".log")), HasSubstr("--resume")) << "training resumed";
    }
  }
}

TEST_F(RetrainEndToEnd, AFailedStageLeavesTheServedModelAndSaysWhich) {
  repo_->Commit(ConventionsRepo(30), 1700000000);
  steps_ = 60;
  ASSERT_EQ(Retrain().exit_code, 0);
  const std::string served = Bytes(dir_ / "served.gguf");
  repo_->Commit(ConventionsRepo(31, 3), 1700001000);
  // The base's weights truncated: ingest (tokenizer only) passes, train cannot load the model.
  const std::string weights = Bytes(std::filesystem::path(base_) / "model.safetensors");
  tune::testing::WriteTestFile(std::filesystem::path(base_) / "model.safetensors", weights.substr(0, 100));
  RunResult failed = Retrain();
  tune::testing::WriteTestFile(std::filesystem::path(base_) / "model.safetensors", weights);
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_THAT(failed.output, HasSubstr("retrain stage train failed"));
  EXPECT_EQ(Bytes(dir_ / "served.gguf"), served);
  json s = State(dir_);
  EXPECT_EQ(s["runs"].back()["outcome"], "failed");
  EXPECT_TRUE(s["pending"].is_null());
  // A second run at the same time is refused while one holds the lock.
  const pid_t pid = StartRetrain("TUNE_RETRAIN_HOLD=train");
  for (int i = 0; i < 400 && Bytes(tmp_ / "bg.log").find("holding") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  RunResult overlap = Retrain();
  EXPECT_NE(overlap.exit_code, 0);
  EXPECT_THAT(overlap.output, HasSubstr("another tune retrain"));
  kill(pid, SIGKILL);
}

}  // namespace
}  // namespace tune
