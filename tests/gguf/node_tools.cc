#include "tests/gguf/node_tools.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tests/support/temp_dir.h"

namespace tune::testing {

std::filesystem::path NodePrefix() { return SourcePath(".cache/node"); }

std::filesystem::path LlamaCppBinDir() {
  return NodePrefix() / "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64";
}

std::string NodeBinary() {
  const std::filesystem::path runtime = NodePrefix() / "runtime/bin/node";
  return std::filesystem::exists(runtime) ? runtime.string() : "node";
}

std::string NodeToolsMissingReason() {
  if (std::system(absl::StrFormat("'%s' --version > /dev/null 2>&1", NodeBinary()).c_str()) != 0) {
    return "node is not installed; run scripts/install-deps.sh";
  }
  if (!std::filesystem::exists(NodePrefix() / "node_modules/node-llama-cpp/package.json") ||
      !std::filesystem::exists(LlamaCppBinDir() / "libggml-base.so")) {
    return "node-llama-cpp with its linux-x64 CPU prebuilt of llama.cpp is not installed in " +
           NodePrefix().string() + "; run scripts/install-node-tools.sh";
  }
  return "";
}

absl::StatusOr<std::vector<int64_t>> LlamaCppGreedy(const std::filesystem::path& model,
                                                    const std::vector<int64_t>& prompt, size_t n,
                                                    const std::filesystem::path& lora) {
  std::string cmd = absl::StrFormat("'%s' '%s' --model '%s' --prompt %s --n %d", NodeBinary(),
                                    SourcePath("tests/tools/llama_cpp/greedy.mjs").string(), model.string(),
                                    absl::StrJoin(prompt, ","), n);
  if (!lora.empty()) cmd += absl::StrFormat(" --lora '%s'", lora.string());
  cmd += " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen failed: " + cmd);
  std::string output;
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof(buf), pipe)) output.append(buf, got);
  const int rc = ::pclose(pipe);
  // The JSON is the last line; llama.cpp may log above it.
  const size_t start = output.rfind("{\"tokens\"");
  if (rc != 0 || start == std::string::npos) {
    return absl::InternalError(absl::StrFormat("%s failed (%d):\n%s", cmd, rc, output));
  }
  return nlohmann::json::parse(output.substr(start)).at("tokens").get<std::vector<int64_t>>();
}

}  // namespace tune::testing
