// docs/architecture.md's module graph is the one CMake builds: for every library target (and the
// `tune` executable), the tune targets it links are exactly the ones the document lists; and the
// graph has no cycle, so dependencies run one way.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "core/file.h"
#include "tests/support/temp_dir.h"

namespace tune {
namespace {

using Graph = std::map<std::string, std::set<std::string>>;
using tune::testing::SourcePath;

constexpr const char* kFolders[] = {"core", "formats", "tokenizer", "gguf",    "nf4",       "retrieval", "data",   "doctor",
                                    "model", "train",  "export",    "inference", "eval",    "retrain", "cli"};

std::set<std::string> TuneTargets(const std::string& text, const std::string& self) {
  static const std::regex kTarget(R"(\btune_(\w+))");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kTarget); it != std::sregex_iterator(); ++it) {
    if ((*it)[1] != self) out.insert((*it)[1]);
  }
  return out;
}

// Each `tune_library(tune_X ...)` block and the `tune` executable's target_link_libraries.
Graph FromCMake() {
  Graph g;
  static const std::regex kLibrary(R"(tune_library\(tune_(\w+)([^)]*)\))");
  static const std::regex kExecutable(R"(target_link_libraries\(tune PRIVATE([^)]*)\))");
  for (const char* folder : kFolders) {
    const std::string text = core::ReadFile(SourcePath(std::string(folder) + "/CMakeLists.txt")).value();
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kLibrary); it != std::sregex_iterator(); ++it) {
      g[(*it)[1]] = TuneTargets((*it)[2], (*it)[1]);
    }
    std::smatch m;
    if (std::regex_search(text, m, kExecutable)) g["cli"] = TuneTargets(m[1], "");
  }
  return g;
}

Graph FromDocs() {
  const std::string doc = core::ReadFile(SourcePath("docs/architecture.md")).value();
  const size_t begin = doc.find("<!-- module graph");
  const size_t end = doc.find("<!-- end module graph -->");
  EXPECT_NE(begin, std::string::npos);
  EXPECT_NE(end, std::string::npos);
  std::istringstream block(doc.substr(begin, end - begin));
  static const std::regex kLine(R"(^(\w+)\s+->\s*(.*)$)");
  static const std::regex kName(R"(\w+)");
  Graph g;
  for (std::string line; std::getline(block, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, kLine)) continue;
    const std::string deps = m[2];
    std::set<std::string>& out = g[m[1]];
    for (auto it = std::sregex_iterator(deps.begin(), deps.end(), kName); it != std::sregex_iterator(); ++it) {
      out.insert(it->str());
    }
  }
  return g;
}

TEST(ArchitectureTest, DocumentedModuleGraphIsTheBuiltOne) {
  const Graph built = FromCMake(), documented = FromDocs();
  ASSERT_GT(built.size(), 10u);
  for (const auto& [target, deps] : built) {
    ASSERT_TRUE(documented.count(target)) << "docs/architecture.md does not list " << target;
    EXPECT_EQ(documented.at(target), deps) << target;
  }
  for (const auto& [target, deps] : documented) EXPECT_TRUE(built.count(target)) << "no such target: " << target;
}

TEST(ArchitectureTest, DependenciesRunOneWay) {
  const Graph g = FromCMake();
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::function<bool(const std::string&)> acyclic = [&](const std::string& node) {
    if (state[node] == 1) return false;
    if (state[node] == 2) return true;
    state[node] = 1;
    if (auto it = g.find(node); it != g.end()) {
      for (const std::string& dep : it->second) {
        if (!acyclic(dep)) return false;
      }
    }
    state[node] = 2;
    return true;
  };
  for (const auto& [target, deps] : g) EXPECT_TRUE(acyclic(target)) << "a cycle through " << target;
  // Torch-free layers never link LibTorch.
  for (const char* torch_free : {"core", "formats", "tokenizer", "gguf", "nf4", "data", "inference", "retrain", "doctor",
                                 "eval_tasks", "retrieval"}) {
    ASSERT_TRUE(g.count(torch_free)) << torch_free;
    EXPECT_FALSE(g.at(torch_free).count("torch")) << torch_free;
  }
}

}  // namespace
}  // namespace tune
