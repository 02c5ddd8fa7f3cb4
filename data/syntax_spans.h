// Syntax-aligned FIM middles from tree-sitter parse trees (structure-aware FIM: SAFIM /
// AST-FIM / IBM semantic scopes): function bodies, blocks, statements, expressions, argument
// lists. Grammars: python, javascript, typescript, c, cpp, go, rust, java.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::data {

enum class SpanKind : uint8_t { kFunction, kBlock, kStatement, kExpression, kArguments };

std::string_view SpanKindName(SpanKind kind);

struct SyntaxSpan {
  uint32_t begin = 0;  // byte offsets into the parsed text; [begin, end) is exactly one node
  uint32_t end = 0;
  SpanKind kind = SpanKind::kStatement;
};

// True if `language` (a DetectLanguage name) has a compiled grammar.
bool HasGrammar(std::string_view language);

// Nodes of the kinds above whose byte length is in [min_bytes, max_bytes], in document order.
// Subtrees containing parse errors are skipped. FailedPrecondition without a grammar,
// DeadlineExceeded when parsing takes longer than the internal limit (1 s).
// Whether `text` parses without an error or missing node anywhere in its tree (`tune eval`: does
// the completed file still parse?). Same errors as FindSyntaxSpans.
absl::StatusOr<bool> ParsesCleanly(std::string_view language, std::string_view text);

absl::StatusOr<std::vector<SyntaxSpan>> FindSyntaxSpans(std::string_view language,
                                                        std::string_view text, uint32_t min_bytes,
                                                        uint32_t max_bytes);

}  // namespace tune::data
