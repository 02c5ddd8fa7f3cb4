// `tune eval` end to end, as a user runs it: repositories generated here, `tune ingest`,
// `tune train` on the tiny base (`tune debug tiny-base`), `tune export`, `tune eval --json`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

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
using tune::testing::FixturePath;
using tune::testing::SourcePath;
using tune::testing::TempDir;
using tune::testing::ConventionsRepo;
using tune::testing::HelpersRepo;
using tune::testing::RandomRepo;
using tune::testing::RunResult;
using tune::testing::RunTune;
using tune::testing::TestRepo;

class EvalEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = tune::testing::MakeTinyBase(tmp_ / "base");
  }

  // ingest + train; returns the dataset directory (the adapter is beside it).
  std::string IngestAndTrain(const std::string& name, const std::map<std::string, std::string>& files,
                             int steps, const std::string& ingest_args = "") {
    TestRepo repo(tmp_ / (name + "-repo"));
    repo.Commit(files);
    const std::string data = (tmp_ / (name + "-data")).string(), run = (tmp_ / (name + "-run")).string();
    const std::string config = SourcePath("configs/tiny.toml").string();
    RunResult ingest = RunTune(absl::StrFormat(
        "ingest --repo %s --out %s --config %s --tokenizer %s/tokenizer.model --set ingest.eval_fraction=0.2 --quiet %s",
        repo.path().string(), data, config, base_, ingest_args));
    EXPECT_EQ(ingest.exit_code, 0) << ingest.output;
    RunResult train = RunTune(absl::StrFormat("train --data %s --out %s --config %s --base %s --set train.steps=%d",
                                              data, run, config, base_, steps));
    EXPECT_EQ(train.exit_code, 0) << train.output;
    return data;
  }

  // `tune eval --json -`, parsed.
  json Eval(const std::string& args) {
    RunResult r = RunTune("eval --quiet --json - " + args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    json j = json::parse(r.output, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.output;
    return j;
  }

  // The row's numbers in the test log (docs/eval.md quotes a run).
  static void Print(const std::string& what, const json& row) {
    std::printf("%s: n=%d exact match %.3f -> %.3f (p=%.4g), edit similarity %.3f -> %.3f [%+.3f, %+.3f] (p=%.4g)\n",
                what.c_str(), row["n"].get<int>(), row["exact_match"]["base"].get<double>(),
                row["exact_match"]["tuned"].get<double>(), row["exact_match"]["p_value"].get<double>(),
                row["edit_similarity"]["base"].get<double>(), row["edit_similarity"]["tuned"].get<double>(),
                row["edit_similarity"]["ci95"][0].get<double>(), row["edit_similarity"]["ci95"][1].get<double>(),
                row["edit_similarity"]["p_value"].get<double>());
  }

  static const json& Row(const json& report, const std::string& language, const std::string& kind) {
    for (const json& row : report["rows"]) {
      if (row["language"] == language && row["kind"] == kind) return row;
    }
    ADD_FAILURE() << "no row " << language << "/" << kind;
    static const json kNone;
    return kNone;
  }

  TempDir tmp_;
  std::string base_;
};

// The must-show: conventions only the repository teaches are learnt and the test says so; a
// repository with nothing shared shows no significant gain on the same command.
TEST_F(EvalEndToEnd, TrainingOnHouseConventionsBeatsTheBaseSignificantlyAndRandomCodeDoesNot) {
  // SPM: the order the tiny model learns in a few minutes (docs/eval.md has both orders).
  const std::string common = "--fim-order spm --tasks-per-kind 30 --no-loss";
  const std::string conventions = IngestAndTrain("conventions", ConventionsRepo(60), 300);
  json learnt = Eval(absl::StrFormat("--data %s --base %s --lora %s %s", conventions, base_,
                                     (tmp_ / "conventions-run").string(), common));
  const json& all = Row(learnt, "all", "all");
  Print("conventions repo", all);
  EXPECT_GT(all["exact_match"]["delta"].get<double>(), 0.05) << all.dump(1);
  EXPECT_LT(all["exact_match"]["p_value"].get<double>(), 0.05) << all.dump(1);
  EXPECT_TRUE(all["exact_match"]["significant"].get<bool>());
  EXPECT_GT(all["edit_similarity"]["ci95"][0].get<double>(), 0.0) << all.dump(1);

  const std::string random = IngestAndTrain("random", RandomRepo(60), 300);
  json noise = Eval(absl::StrFormat("--data %s --base %s --lora %s %s", random, base_,
                                    (tmp_ / "random-run").string(), common));
  const json& none = Row(noise, "all", "all");
  Print("random repo", none);
  EXPECT_FALSE(none["exact_match"]["significant"].get<bool>()) << none.dump(1);
  EXPECT_LT(none["exact_match"]["tuned"].get<double>(), 0.05) << none.dump(1);
}

// Retrieval: held-out handlers call helpers defined in other files; the index finds the defining
// chunk from the code around the cursor for most such tasks (recall@4), and `tune eval
// --retrieval` scores the four arms on the same tasks, each against base with its p-value.
TEST_F(EvalEndToEnd, RetrievalFindsTheCalledHelpersAndEvalComparesFourArms) {
  const std::string data = IngestAndTrain("helpers", HelpersRepo(60), 300,
                                          "--set ingest.repo_context_rate=0.8 --set ingest.retrieval_bytes=512");
  json r = Eval(absl::StrFormat("--data %s --base %s --lora %s --fim-order spm --tasks-per-kind 30 --no-loss "
                                "--retrieval --retrieval-chunks 4",
                                data, base_, (tmp_ / "helpers-run").string()));
  const json& retrieval = r["retrieval"];
  std::printf("helpers repo: recall@4 %.3f (%d of %d tasks whose middle uses a helper of another file)\n",
              retrieval["recall_at_k"].get<double>(), retrieval["found"].get<int>(),
              retrieval["tasks_using_definitions"].get<int>());
  EXPECT_GE(retrieval["tasks_using_definitions"].get<int>(), 10) << retrieval.dump(1);
  EXPECT_GT(retrieval["recall_at_k"].get<double>(), 0.6) << retrieval.dump(1);
  std::set<std::string> arms;
  for (const json& arm : retrieval["arms"]) {
    arms.insert(arm["arm"].get<std::string>());
    const json& em = arm["exact_match"];
    std::printf("%-16s exact match %.3f -> %.3f (p=%.4g), edit similarity %.3f -> %.3f (p=%.4g)\n",
                arm["arm"].get<std::string>().c_str(), em["base"].get<double>(), em["tuned"].get<double>(),
                em["p_value"].get<double>(), arm["edit_similarity"]["base"].get<double>(),
                arm["edit_similarity"]["tuned"].get<double>(), arm["edit_similarity"]["p_value"].get<double>());
    EXPECT_EQ(em["n"], Row(r, "all", "all")["n"]);
    EXPECT_GE(em["p_value"].get<double>(), 0.0);
    EXPECT_LE(em["p_value"].get<double>(), 1.0);
  }
  EXPECT_EQ(arms, (std::set<std::string>{"base+retrieval", "tuned", "tuned+retrieval"}));
  // Every task carries all four completions; the retrieval arms' prompts are longer.
  double plain_tokens = 0, retrieval_tokens = 0;
  for (const json& task : r["tasks"]) {
    for (const char* arm : {"base", "base+retrieval", "tuned", "tuned+retrieval"}) {
      ASSERT_TRUE(task.contains(arm)) << arm;
    }
    plain_tokens += task["base"]["prompt_tokens"].get<double>();
    retrieval_tokens += task["base+retrieval"]["prompt_tokens"].get<double>();
  }
  EXPECT_GT(retrieval_tokens, plain_tokens);
  // A dataset written before the index existed is named with the fix.
  std::filesystem::remove(std::filesystem::path(data) / "retrieval.jsonl");
  RunResult old = RunTune(absl::StrFormat("eval --quiet --data %s --base %s --retrieval --no-loss", data, base_));
  EXPECT_EQ(old.exit_code, 2) << old.output;  // a missing file: exit 2, as for other missing inputs
  EXPECT_THAT(old.output, HasSubstr("retrieval.jsonl"));
  EXPECT_THAT(old.output, HasSubstr("tune ingest"));
}

// The same model through the serving runner (an F32 GGUF export) and through LibTorch: every
// task gets the same completion, so every number is the same.
TEST_F(EvalEndToEnd, GgufRunnerAndLibTorchGiveIdenticalNumbers) {
  const std::string data = IngestAndTrain("identity", ConventionsRepo(30), 40);
  const std::string gguf = (tmp_ / "tuned-f32.gguf").string();
  RunResult exported = RunTune(absl::StrFormat("export --base %s --adapter %s --quant F32 --out %s", base_,
                                               (tmp_ / "identity-run").string(), gguf));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  json both = Eval(absl::StrFormat("--data %s --base %s --tuned %s --lora %s --tasks-per-kind 12 --threads 2",
                                   data, gguf, base_, (tmp_ / "identity-run").string()));
  ASSERT_GT(both["tasks"].size(), 30u);
  int differing = 0;
  for (const json& t : both["tasks"]) {
    if (t["base"]["completion"] != t["tuned"]["completion"]) {
      ++differing;
      ADD_FAILURE() << t["path"] << " " << t["kind"] << " " << t["order"] << ": gguf " << t["base"]["completion"]
                    << " vs libtorch " << t["tuned"]["completion"];
    }
  }
  EXPECT_EQ(differing, 0);
  for (const json& row : both["rows"]) {
    EXPECT_EQ(row["exact_match"]["delta"].get<double>(), 0.0);
    EXPECT_EQ(row["edit_similarity"]["delta"].get<double>(), 0.0);
  }
  EXPECT_TRUE(both["models"][0]["heldout_loss"].is_null()) << "a GGUF has no held-out loss";
  EXPECT_GT(both["models"][1]["heldout_loss"].get<double>(), 0.0);
}

// `tune --progress json`: every long stage reports JSON events, ending with "done" at its total;
// `--progress none` prints none.
TEST_F(EvalEndToEnd, ProgressEventsAreJsonLinesOnEveryLongStage) {
  TestRepo repo(tmp_ / "repo");
  repo.Commit(ConventionsRepo(20));
  const std::string data = (tmp_ / "data").string(), run = (tmp_ / "run").string();
  const std::string config = SourcePath("configs/tiny.toml").string();
  RunResult out = {0, ""};
  for (const std::string& args :
       {absl::StrFormat("--progress json ingest --repo %s --out %s --tokenizer %s/tokenizer.model "
                        "--set ingest.eval_fraction=0.2",
                        repo.path().string(), data, base_),
        absl::StrFormat("--progress json train --data %s --out %s --config %s --base %s --set train.steps=8", data,
                        run, config, base_),
        absl::StrFormat("--progress json eval --data %s --base %s --lora %s --max-tasks 6 --no-loss", data, base_, run)}) {
    RunResult r = RunTune(args);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    out.output += r.output;
  }
  std::map<std::string, json> last;  // stage -> its last event
  std::istringstream lines(out.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    json event = json::parse(line, nullptr, false);
    ASSERT_TRUE(event.is_object()) << line;
    last[event["stage"].get<std::string>()] = event;
  }
  for (const char* stage : {"mining", "tokenizing", "train", "eval"}) {
    ASSERT_TRUE(last.count(stage)) << stage << " reported nothing in:\n" << out.output;
    EXPECT_EQ(last[stage]["event"], "done") << stage;
    EXPECT_EQ(last[stage]["done"], last[stage]["total"]) << stage;
  }
  EXPECT_EQ(last["train"]["unit"], "steps");
  EXPECT_TRUE(last["train"]["loss"].is_number());
  RunResult quiet = RunTune(absl::StrFormat("--progress none train --data %s --out %s --config %s --base %s --set train.steps=4",
                                            data, (tmp_ / "run2").string(), config, base_));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.output;
  EXPECT_EQ(quiet.output.find("step 4/4"), std::string::npos) << quiet.output;
  EXPECT_EQ(RunTune("--progress loud doctor").exit_code, 2);
}

TEST_F(EvalEndToEnd, UnusableInputsExitNonZeroNamingTheProblem) {
  TestRepo repo(tmp_ / "repo");
  repo.Commit(ConventionsRepo(20));
  const std::string data = (tmp_ / "data").string();
  ASSERT_EQ(RunTune(absl::StrFormat("ingest --repo %s --out %s --tokenizer %s/tokenizer.model "
                                    "--set ingest.eval_fraction=0.2 --quiet",
                                    repo.path().string(), data, base_))
                .exit_code,
            0);
  // No held-out file in the language asked for.
  RunResult rust = RunTune(absl::StrFormat("eval --data %s --base %s --languages rust --benchmark %s", data, base_,
                                           (tmp_ / "rust.json").string()));
  EXPECT_EQ(rust.exit_code, 2);
  EXPECT_THAT(rust.output, HasSubstr("no held-out rust file"));
  // A model for another vocabulary: a dataset ingested with the fixture's own tokenizer, the
  // tiny base (tune's FIM tokenizer, same size, other pieces) evaluated on it.
  const std::string other = (tmp_ / "other-data").string();
  ASSERT_EQ(RunTune(absl::StrFormat("ingest --repo %s --out %s --tokenizer %s/tokenizer.model "
                                    "--set ingest.eval_fraction=0.2 --quiet",
                                    repo.path().string(), other, FixturePath("tiny-llama").string()))
                .exit_code,
            0);
  RunResult mismatch = RunTune(absl::StrFormat("eval --data %s --base %s --no-loss", other, base_));
  EXPECT_NE(mismatch.exit_code, 0);
  EXPECT_THAT(mismatch.output, HasSubstr("is not the dataset's tokenizer"));
  // A GGUF whose vocabulary has no FIM tokens: the fixture with its own tokenizer.
  const std::string plain = (tmp_ / "plain.gguf").string();
  ASSERT_EQ(RunTune(absl::StrFormat("export --base %s --quant F32 --out %s", FixturePath("tiny-llama").string(), plain))
                .exit_code,
            0);
  RunResult no_fim = RunTune(absl::StrFormat("eval --data %s --base %s", data, plain));
  EXPECT_NE(no_fim.exit_code, 0);
  EXPECT_THAT(no_fim.output, HasSubstr("no FIM prefix/suffix/middle tokens"));
  // A corrupt saved benchmark names the file.
  tune::testing::WriteTestFile(tmp_ / "broken.json", "{\"format\": \"tune-eval-benchmark\"");
  RunResult broken = RunTune(absl::StrFormat("eval --data %s --base %s --benchmark %s", data, base_,
                                             (tmp_ / "broken.json").string()));
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_THAT(broken.output, HasSubstr("broken.json"));
}

}  // namespace
}  // namespace tune
