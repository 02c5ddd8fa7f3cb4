#include "tests/gguf/node_tools.h"

#include <cstdlib>

#include "tests/support/temp_dir.h"

namespace tune::testing {

std::filesystem::path NodePrefix() { return SourcePath(".cache/node"); }

std::filesystem::path LlamaCppBinDir() {
  return NodePrefix() / "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64";
}

std::string NodeToolsMissingReason() {
  if (std::system("node --version > /dev/null 2>&1") != 0) {
    return "node is not installed; run scripts/install-deps.sh";
  }
  if (!std::filesystem::exists(NodePrefix() / "node_modules/node-llama-cpp/package.json") ||
      !std::filesystem::exists(LlamaCppBinDir() / "libggml-base.so")) {
    return "node-llama-cpp with its linux-x64 CPU prebuilt of llama.cpp is not installed in " +
           NodePrefix().string() + "; run scripts/install-node-tools.sh";
  }
  return "";
}

}  // namespace tune::testing
