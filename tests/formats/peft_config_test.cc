#include "formats/peft_config.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tune::formats {
namespace {

TEST(PeftConfigTest, ReadsPeftFieldsAndAppliesPatterns) {
  absl::StatusOr<LoraConfig> c = ParseLoraConfig(
      R"({"peft_type":"LORA","r":16,"lora_alpha":32,"lora_dropout":0.05,"bias":"none","use_rslora":false,
          "modules_to_save":null,"target_modules":["q_proj","v_proj"],
          "rank_pattern":{"layers.0.self_attn.q_proj":8},"alpha_pattern":{"v_proj":4}})",
      "adapter_config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->target_modules, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(c->RankFor("model.layers.0.self_attn.q_proj"), 8);
  EXPECT_EQ(c->RankFor("model.layers.1.self_attn.q_proj"), 16);
  EXPECT_DOUBLE_EQ(c->ScaleFor("model.layers.0.self_attn.q_proj"), 4.0);
  EXPECT_DOUBLE_EQ(c->ScaleFor("model.layers.3.self_attn.v_proj"), 0.25);
  EXPECT_DOUBLE_EQ(c->ScaleFor("model.layers.3.mlp.up_proj"), 2.0);
  absl::StatusOr<LoraConfig> rs = ParseLoraConfig(R"({"r":4,"lora_alpha":8,"use_rslora":true})", "a.json");
  ASSERT_TRUE(rs.ok());
  EXPECT_DOUBLE_EQ(rs->ScaleFor("q_proj"), 4.0);
  EXPECT_TRUE(PeftKeyMatches("model.layers.0.self_attn.q_proj", "q_proj"));
  EXPECT_FALSE(PeftKeyMatches("model.layers.0.self_attn.xq_proj", "q_proj"));
}

TEST(PeftConfigTest, HostileValuesAreErrorsNamingTheFile) {
  struct Case {
    const char* json;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {"[]", absl::StatusCode::kInvalidArgument},
      {R"({"r":0})", absl::StatusCode::kInvalidArgument},
      {R"({"r":1e30})", absl::StatusCode::kInvalidArgument},
      {R"({"r":1000000})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"peft_type":3})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"use_dora":"yes"})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"bias":false})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"lora_alpha":"x"})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"lora_dropout":1.5})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"rank_pattern":{"q_proj":-3}})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"rank_pattern":{"q_proj":2.5e40}})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"rank_pattern":[1]})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"alpha_pattern":{"q_proj":"big"}})", absl::StatusCode::kInvalidArgument},
      {R"({"r":8,"peft_type":"IA3"})", absl::StatusCode::kUnimplemented},
      {R"({"r":8,"use_dora":true})", absl::StatusCode::kUnimplemented},
      {R"({"r":8,"fan_in_fan_out":true})", absl::StatusCode::kUnimplemented},
      {R"({"r":8,"bias":"all"})", absl::StatusCode::kUnimplemented},
      {R"({"r":8,"modules_to_save":["lm_head"]})", absl::StatusCode::kUnimplemented},
  };
  for (const Case& c : cases) {
    absl::StatusOr<LoraConfig> config = ParseLoraConfig(c.json, "/x/adapter_config.json");
    EXPECT_EQ(config.status().code(), c.code) << c.json << ": " << config.status();
    EXPECT_NE(config.status().message().find("/x/adapter_config.json"), std::string::npos) << c.json;
  }
}

}  // namespace
}  // namespace tune::formats
