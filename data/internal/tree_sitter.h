// RAII handles for tree-sitter (private to data/).
#pragma once

#include <tree_sitter/api.h>

#include <memory>

namespace tune::data::internal {

struct TsParserDeleter {
  void operator()(TSParser* p) const { ts_parser_delete(p); }
};
struct TsTreeDeleter {
  void operator()(TSTree* t) const { ts_tree_delete(t); }
};
using TsParserPtr = std::unique_ptr<TSParser, TsParserDeleter>;
using TsTreePtr = std::unique_ptr<TSTree, TsTreeDeleter>;

}  // namespace tune::data::internal
