// Where scripts/install-node-tools.sh puts node-llama-cpp (llama.cpp's CPU prebuilt), and
// whether it and node are usable; shared by the tests that compare tune with real llama.cpp.
#pragma once

#include <filesystem>
#include <string>

namespace tune::testing {

// <source>/.cache/node: the npm prefix the install script uses.
std::filesystem::path NodePrefix();
// The directory holding libggml-base.so and llama-addon.node of the linux-x64 prebuilt (the
// dev container and CI; other hosts report the tools as missing).
std::filesystem::path LlamaCppBinDir();
// Empty when node and the pinned node-llama-cpp are usable; otherwise why not, naming the
// command that fixes it.
std::string NodeToolsMissingReason();

}  // namespace tune::testing
