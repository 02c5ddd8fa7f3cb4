// RAII handles for tree-sitter (private to data/).
#pragma once

#include <tree_sitter/api.h>

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"

namespace tune::data::internal {

struct TsParserDeleter {
  void operator()(TSParser* p) const { ts_parser_delete(p); }
};
struct TsTreeDeleter {
  void operator()(TSTree* t) const { ts_tree_delete(t); }
};
using TsParserPtr = std::unique_ptr<TSParser, TsParserDeleter>;
using TsTreePtr = std::unique_ptr<TSTree, TsTreeDeleter>;

// The parse tree of `text` in `language` (a DetectLanguage name): FailedPrecondition without a
// grammar, DeadlineExceeded when parsing takes longer than 1 s (data/syntax_spans.cc).
absl::StatusOr<TsTreePtr> ParseTree(std::string_view language, std::string_view text);

// Visits `tree`'s nodes in document order (pre-order); `visit` returns whether to go into the
// node's children.
void VisitNodes(const TSTree& tree, const std::function<bool(TSNode)>& visit);

}  // namespace tune::data::internal
