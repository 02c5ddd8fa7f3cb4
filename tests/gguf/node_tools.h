// Where scripts/install-node-tools.sh puts node-llama-cpp (llama.cpp's CPU prebuilt), and
// whether it and node are usable; shared by the tests that compare tune with real llama.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::testing {

// <source>/.cache/node: the npm prefix the install script uses.
std::filesystem::path NodePrefix();
// The node to run the tools with: <prefix>/runtime/bin/node, the Node.js 20 the install script
// adds where the system's node is older (Debian 12), else "node" from PATH.
std::string NodeBinary();
// The directory holding libggml-base.so and llama-addon.node of the linux-x64 prebuilt (the
// dev container and CI; other hosts report the tools as missing).
std::filesystem::path LlamaCppBinDir();
// Empty when node and the pinned node-llama-cpp are usable; otherwise why not, naming the
// command that fixes it.
std::string NodeToolsMissingReason();

// Greedy continuation of `prompt` by real llama.cpp (tests/tools/llama_cpp/greedy.mjs), optionally with
// a GGUF LoRA at scale 1; an error carries node's output.
absl::StatusOr<std::vector<int64_t>> LlamaCppGreedy(const std::filesystem::path& model,
                                                    const std::vector<int64_t>& prompt, size_t n,
                                                    const std::filesystem::path& lora = {});

}  // namespace tune::testing
