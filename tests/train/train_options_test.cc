// The [train] and [lora] keys of the GPU path: defaults, accepted spellings, and errors that name
// the file, the key and what is allowed.
#include "train/train_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config.h"
#include "model/model_options.h"

namespace tune::train {
namespace {

using ::testing::HasSubstr;

core::Config Parse(const std::string& toml) { return core::Config::Parse(toml, "x.toml").value(); }

TEST(TrainOptionsTest, DeviceDtypeAndOffloadDefaults) {
  TrainOptions o = ParseTrainOptions(Parse("")).value();
  EXPECT_EQ(o.device, "auto");
  EXPECT_EQ(o.compute_dtype, "auto");
  EXPECT_FALSE(o.optimizer_offload);
  EXPECT_EQ(model::ParseLoraOptions(Parse("")).value().dtype, at::kFloat);
}

TEST(TrainOptionsTest, AcceptsEveryDeviceSpelling) {
  for (const char* device : {"auto", "cpu", "cuda", "cuda:0", "cuda:3"}) {
    auto o = ParseTrainOptions(Parse(std::string("[train]\ndevice = \"") + device + "\"\n"));
    ASSERT_TRUE(o.ok()) << device << ": " << o.status();
    EXPECT_EQ(o->device, device);
  }
  TrainOptions o = ParseTrainOptions(Parse("[train]\ncompute_dtype = \"bf16\"\noptimizer_offload = true\n")).value();
  EXPECT_EQ(o.compute_dtype, "bf16");
  EXPECT_TRUE(o.optimizer_offload);
  EXPECT_EQ(model::ParseLoraOptions(Parse("[lora]\ndtype = \"bf16\"\n")).value().dtype, at::kBFloat16);
}

TEST(TrainOptionsTest, BadValuesNameTheFileKeyAndAllowedValues) {
  for (const char* device : {"gpu", "cuda:", "cuda:-1", "cuda:x", "CPU"}) {
    absl::Status s = ParseTrainOptions(Parse(std::string("[train]\ndevice = \"") + device + "\"\n")).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << device;
    EXPECT_THAT(s.message(), HasSubstr("x.toml: train.device must be one of auto, cpu, cuda, cuda:N"));
  }
  absl::Status dtype = ParseTrainOptions(Parse("[train]\ncompute_dtype = \"fp16\"\n")).status();
  EXPECT_THAT(dtype.message(), HasSubstr("x.toml: train.compute_dtype must be one of auto, f32, bf16"));
  absl::Status offload = ParseTrainOptions(Parse("[train]\noptimizer_offload = \"yes\"\n")).status();
  EXPECT_THAT(offload.message(), HasSubstr("x.toml: train.optimizer_offload must be true or false"));
  absl::Status lora = model::ParseLoraOptions(Parse("[lora]\ndtype = \"auto\"\n")).status();
  EXPECT_THAT(lora.message(), HasSubstr("x.toml: lora.dtype must be one of f32, bf16"));
}

}  // namespace
}  // namespace tune::train
