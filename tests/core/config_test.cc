#include "core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tune::core {
namespace {

using ::testing::HasSubstr;

struct Options {
  int64_t rank = 8;
  double alpha = 16;
  bool rslora = false;
  std::string mode = "psm";
  std::vector<std::string> targets;
};

absl::StatusOr<Options> ParseOptions(const Config& config) {
  Options o;
  SectionReader r(config, "lora");
  if (auto s = r.Read("rank", o.rank, 1, 4096); !s.ok()) return s;
  if (auto s = r.Read("alpha", o.alpha, 0.0, 1e6); !s.ok()) return s;
  if (auto s = r.Read("rslora", o.rslora); !s.ok()) return s;
  if (auto s = r.ReadChoice("mode", o.mode, {"psm", "spm"}); !s.ok()) return s;
  if (auto s = r.Read("targets", o.targets, {"q_proj", "v_proj"}); !s.ok()) return s;
  if (auto s = r.Finish(); !s.ok()) return s;
  return o;
}

absl::StatusOr<Options> ParseText(const std::string& text, std::vector<std::string> overrides = {}) {
  auto config = Config::Parse(text, "test.toml", overrides);
  if (!config.ok()) return config.status();
  return ParseOptions(*config);
}

TEST(ConfigTest, ReadsTypedValuesAndKeepsDefaults) {
  auto o = ParseText("[lora]\nrank = 32\nalpha = 8\ntargets = [\"q_proj\"]\n");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rank, 32);
  EXPECT_DOUBLE_EQ(o->alpha, 8.0);  // an integer is accepted where a number is expected
  EXPECT_EQ(o->mode, "psm");
  EXPECT_EQ(o->targets, std::vector<std::string>{"q_proj"});
}

TEST(ConfigTest, OverridesWinOverTheFileAndParseAsToml) {
  auto o = ParseText("[lora]\nrank = 32\n", {"lora.rank=4", "lora.mode=spm", "lora.rslora=true",
                                             "lora.targets=[\"v_proj\", \"q_proj\"]"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rank, 4);
  EXPECT_EQ(o->mode, "spm");  // a bare word is taken as a string
  EXPECT_TRUE(o->rslora);
  EXPECT_EQ(o->targets.size(), 2u);
}

TEST(ConfigTest, ErrorsNameFileKeyAndAllowedValues) {
  auto unknown = ParseText("[lora]\nrnak = 3\n");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("test.toml: unknown key 'lora.rnak'; allowed keys: rank, alpha, rslora, mode, targets"));

  auto range = ParseText("[lora]\nrank = 0\n");
  EXPECT_THAT(std::string(range.status().message()),
              HasSubstr("test.toml: lora.rank must be an integer in [1, 4096], got 0"));

  auto type = ParseText("[lora]\nrank = \"16x\"\n");
  EXPECT_THAT(std::string(type.status().message()), HasSubstr("got \"16x\""));

  auto choice = ParseText("[lora]\nmode = \"pms\"\n");
  EXPECT_THAT(std::string(choice.status().message()), HasSubstr("one of psm, spm"));

  auto list = ParseText("[lora]\ntargets = [\"q_proj\", \"x_proj\"]\n");
  EXPECT_THAT(std::string(list.status().message()), HasSubstr("array of strings from q_proj, v_proj"));

  auto syntax = Config::Parse("[lora\nrank = 1\n", "bad.toml");
  EXPECT_EQ(syntax.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(syntax.status().message()), HasSubstr("bad.toml:1:"));

  auto override_form = Config::Parse("", "x.toml", {"rank=3"});
  EXPECT_THAT(std::string(override_form.status().message()), HasSubstr("section.key"));
}

TEST(ConfigTest, CheckSectionsRejectsUnknownSections) {
  auto config = Config::Parse("[lora]\nrank = 1\n[trian]\nsteps = 3\n", "x.toml");
  ASSERT_TRUE(config.ok());
  absl::Status s = config->CheckSections({"lora", "train"});
  EXPECT_THAT(std::string(s.message()), HasSubstr("unknown section 'trian'; allowed: lora, train"));
  EXPECT_TRUE(config->CheckSections({"lora", "trian"}).ok());
}

TEST(ConfigTest, LoadNamesMissingFile) {
  auto config = Config::Load("/nonexistent/x.toml");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("/nonexistent/x.toml"));
}

}  // namespace
}  // namespace tune::core
