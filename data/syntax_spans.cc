#include "data/syntax_spans.h"

#include <array>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "data/internal/tree_sitter.h"

extern "C" {
const TSLanguage* tree_sitter_python();
const TSLanguage* tree_sitter_javascript();
const TSLanguage* tree_sitter_typescript();
const TSLanguage* tree_sitter_c();
const TSLanguage* tree_sitter_cpp();
const TSLanguage* tree_sitter_go();
const TSLanguage* tree_sitter_rust();
const TSLanguage* tree_sitter_java();
}

namespace tune::data {
namespace {

constexpr uint64_t kParseTimeoutMicros = 1'000'000;

const TSLanguage* GrammarFor(std::string_view language) {
  static const std::array<std::pair<std::string_view, const TSLanguage* (*)()>, 8> kGrammars = {{
      {"python", tree_sitter_python},
      {"javascript", tree_sitter_javascript},
      {"typescript", tree_sitter_typescript},
      {"c", tree_sitter_c},
      {"cpp", tree_sitter_cpp},
      {"go", tree_sitter_go},
      {"rust", tree_sitter_rust},
      {"java", tree_sitter_java},
  }};
  for (const auto& [name, fn] : kGrammars) {
    if (name == language) return fn();
  }
  return nullptr;
}

// Node types across the eight grammars (names from each grammar's node-types.json).
struct TypeKind {
  std::string_view type;
  SpanKind kind;
};
constexpr std::array kNodeKinds = {
    // functions / methods
    TypeKind{"function_definition", SpanKind::kFunction},   // python, c, cpp
    TypeKind{"function_declaration", SpanKind::kFunction},  // js, ts, go
    TypeKind{"method_declaration", SpanKind::kFunction},    // java, go
    TypeKind{"method_definition", SpanKind::kFunction},     // js, ts
    TypeKind{"function_item", SpanKind::kFunction},         // rust
    TypeKind{"arrow_function", SpanKind::kFunction},        // js, ts
    // blocks (function bodies, loop / branch bodies)
    TypeKind{"block", SpanKind::kBlock},               // python, java, go, rust
    TypeKind{"compound_statement", SpanKind::kBlock},  // c, cpp
    TypeKind{"statement_block", SpanKind::kBlock},     // js, ts
    TypeKind{"constructor_body", SpanKind::kBlock},    // java
    // statements
    TypeKind{"expression_statement", SpanKind::kStatement},
    TypeKind{"return_statement", SpanKind::kStatement},
    TypeKind{"if_statement", SpanKind::kStatement}, TypeKind{"for_statement", SpanKind::kStatement},
    TypeKind{"while_statement", SpanKind::kStatement},
    TypeKind{"declaration", SpanKind::kStatement},                 // c, cpp
    TypeKind{"local_variable_declaration", SpanKind::kStatement},  // java
    TypeKind{"lexical_declaration", SpanKind::kStatement},         // js, ts
    TypeKind{"let_declaration", SpanKind::kStatement},             // rust
    TypeKind{"short_var_declaration", SpanKind::kStatement},       // go
    TypeKind{"assignment", SpanKind::kStatement},                  // python
    // expressions
    TypeKind{"call_expression", SpanKind::kExpression},    // c, cpp, js, ts, go, rust
    TypeKind{"call", SpanKind::kExpression},               // python
    TypeKind{"method_invocation", SpanKind::kExpression},  // java
    TypeKind{"binary_expression", SpanKind::kExpression},
    TypeKind{"binary_operator", SpanKind::kExpression},             // python
    TypeKind{"comparison_operator", SpanKind::kExpression},         // python
    TypeKind{"boolean_operator", SpanKind::kExpression},            // python
    TypeKind{"object_creation_expression", SpanKind::kExpression},  // java
    TypeKind{"new_expression", SpanKind::kExpression},              // js, ts, cpp
    // argument lists
    TypeKind{"argument_list", SpanKind::kArguments},  // python, c, cpp, java, go
    TypeKind{"arguments", SpanKind::kArguments},      // js, ts, rust
};

bool KindOf(std::string_view type, SpanKind& kind) {
  for (const TypeKind& tk : kNodeKinds) {
    if (tk.type == type) {
      kind = tk.kind;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view SpanKindName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kFunction:
      return "function";
    case SpanKind::kBlock:
      return "block";
    case SpanKind::kStatement:
      return "statement";
    case SpanKind::kExpression:
      return "expression";
    case SpanKind::kArguments:
      return "arguments";
  }
  return "unknown";
}

bool HasGrammar(std::string_view language) { return GrammarFor(language) != nullptr; }

absl::StatusOr<internal::TsTreePtr> internal::ParseTree(std::string_view language, std::string_view text) {
  const TSLanguage* grammar = GrammarFor(language);
  if (grammar == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrFormat("no tree-sitter grammar for '%s'", language));
  }
  internal::TsParserPtr parser(ts_parser_new());
  if (!ts_parser_set_language(parser.get(), grammar)) {
    return absl::InternalError(
        absl::StrFormat("tree-sitter grammar for '%s' has ABI %d, the library accepts %d..%d",
                        language, ts_language_version(grammar),
                        TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION, TREE_SITTER_LANGUAGE_VERSION));
  }
  ts_parser_set_timeout_micros(parser.get(), kParseTimeoutMicros);
  internal::TsTreePtr tree(ts_parser_parse_string(parser.get(), nullptr, text.data(),
                                                  static_cast<uint32_t>(text.size())));
  if (tree == nullptr) {
    return absl::DeadlineExceededError(
        absl::StrFormat("tree-sitter parse of %s text timed out", language));
  }
  return tree;
}

void internal::VisitNodes(const TSTree& tree, const std::function<bool(TSNode)>& visit) {
  TSTreeCursor cursor = ts_tree_cursor_new(ts_tree_root_node(&tree));
  for (bool done = false; !done;) {
    if (visit(ts_tree_cursor_current_node(&cursor)) && ts_tree_cursor_goto_first_child(&cursor)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (!ts_tree_cursor_goto_parent(&cursor)) {
        done = true;
        break;
      }
    }
  }
  ts_tree_cursor_delete(&cursor);
}

absl::StatusOr<bool> ParsesCleanly(std::string_view language, std::string_view text) {
  absl::StatusOr<internal::TsTreePtr> tree = internal::ParseTree(language, text);
  if (!tree.ok()) return tree.status();
  return !ts_node_has_error(ts_tree_root_node(tree->get()));
}

absl::StatusOr<std::vector<SyntaxSpan>> FindSyntaxSpans(std::string_view language,
                                                        std::string_view text, uint32_t min_bytes,
                                                        uint32_t max_bytes) {
  absl::StatusOr<internal::TsTreePtr> tree = internal::ParseTree(language, text);
  if (!tree.ok()) return tree.status();
  std::vector<SyntaxSpan> spans;
  // Nodes smaller than min_bytes have no large-enough descendants.
  internal::VisitNodes(**tree, [&](TSNode node) {
    const uint32_t begin = ts_node_start_byte(node), end = ts_node_end_byte(node);
    SpanKind kind;
    if (end - begin >= min_bytes && end - begin <= max_bytes && !ts_node_has_error(node) && ts_node_is_named(node) &&
        KindOf(ts_node_type(node), kind)) {
      spans.push_back({begin, end, kind});
    }
    return end - begin >= min_bytes;
  });
  return spans;
}

}  // namespace tune::data
