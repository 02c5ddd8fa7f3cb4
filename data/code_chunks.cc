#include "data/code_chunks.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "data/internal/tree_sitter.h"
#include "data/syntax_spans.h"

namespace tune::data {
namespace {

// Named definitions across the eight grammars (node-types.json of each).
constexpr std::string_view kDefinitionTypes[] = {
    "function_definition",                                   // python, c, cpp
    "class_definition",                                      // python
    "function_declaration", "generator_function_declaration",  // js, ts, go
    "method_definition", "class_declaration", "interface_declaration", "type_alias_declaration",  // js, ts
    "class_specifier", "struct_specifier", "enum_specifier", "union_specifier",  // c, cpp
    "method_declaration", "type_declaration",                                    // go, java
    "constructor_declaration", "enum_declaration", "record_declaration",         // java
    "function_item", "struct_item", "enum_item", "trait_item", "impl_item", "mod_item",  // rust
};

struct Definition {
  uint32_t first_row = 0, last_row = 0, bytes = 0;
  std::string name;
};

bool IsDefinition(TSNode node) {
  const std::string_view type = ts_node_type(node);
  if (std::find(std::begin(kDefinitionTypes), std::end(kDefinitionTypes), type) == std::end(kDefinitionTypes)) {
    return false;
  }
  // `struct point p;` is a use of a struct, not its definition.
  const bool c_type = type == "struct_specifier" || type == "class_specifier" || type == "enum_specifier" ||
                      type == "union_specifier";
  return !c_type || !ts_node_is_null(ts_node_child_by_field_name(node, "body", 4));
}

// The defined name: the `name` field, following `declarator` fields (C/C++ functions) and a
// Go type_declaration's type_spec; its last identifier ("Foo::bar" -> "bar"). Empty for
// impl blocks and operators.
std::string DefinitionName(TSNode node, std::string_view text) {
  if (std::string_view(ts_node_type(node)) == "type_declaration" && ts_node_named_child_count(node) > 0) {
    node = ts_node_named_child(node, 0);
  }
  for (int depth = 0; depth < 8; ++depth) {
    TSNode next = ts_node_child_by_field_name(node, "name", 4);
    if (ts_node_is_null(next)) next = ts_node_child_by_field_name(node, "declarator", 10);
    if (ts_node_is_null(next)) break;
    node = next;
  }
  if (ts_node_is_null(node) || std::string_view(ts_node_type(node)).find("definition") != std::string_view::npos) {
    return "";
  }
  std::string_view name = text.substr(ts_node_start_byte(node), ts_node_end_byte(node) - ts_node_start_byte(node));
  size_t start = name.size();
  while (start > 0 && (std::isalnum(static_cast<unsigned char>(name[start - 1])) || name[start - 1] == '_')) --start;
  return start < name.size() && name.size() - start <= 128 ? std::string(name.substr(start)) : "";
}

// Every definition in the tree, parents before their children.
std::vector<Definition> FindDefinitions(std::string_view language, std::string_view text) {
  std::vector<Definition> defs;
  absl::StatusOr<internal::TsTreePtr> tree = internal::ParseTree(language, text);
  if (!tree.ok()) return defs;
  internal::VisitNodes(**tree, [&](TSNode node) {
    if (ts_node_is_named(node) && !ts_node_has_error(node) && IsDefinition(node)) {
      defs.push_back({ts_node_start_point(node).row, ts_node_end_point(node).row,
                      ts_node_end_byte(node) - ts_node_start_byte(node), DefinitionName(node, text)});
    }
    return true;
  });
  return defs;
}

class ChunkCutter {
 public:
  ChunkCutter(std::string_view text, const ChunkOptions& options) : text_(text), options_(options) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
    if (line_starts_.back() < text.size()) line_starts_.push_back(text.size());
  }
  uint32_t rows() const { return static_cast<uint32_t>(line_starts_.size() - 1); }

  // Rows [first, last] as one chunk, unless they are only whitespace.
  void Unit(uint32_t first, uint32_t last) {
    std::string_view lines = Rows(first, last);
    if (lines.find_first_not_of(" \t\r\n") == std::string_view::npos) return;
    chunks_.push_back({first + 1, std::string(lines), {}});
    last_rows_.push_back(last);
  }
  // Rows [first, last] as windows of at most max_lines lines and max_bytes bytes.
  void Windows(uint32_t first, uint32_t last) {
    uint32_t start = first;
    for (uint32_t row = first; row <= last; ++row) {
      const bool full = row - start + 1 > static_cast<uint32_t>(options_.max_lines) ||
                        Rows(start, row).size() > static_cast<size_t>(options_.max_bytes);
      if (full && row > start) {
        Unit(start, row - 1);
        start = row;
      }
    }
    if (start <= last) Unit(start, last);
  }
  bool Fits(const Definition& d) const {
    return d.last_row - d.first_row + 1 <= static_cast<uint32_t>(options_.max_lines) &&
           d.bytes <= static_cast<uint32_t>(options_.max_bytes) && d.last_row < rows();
  }
  // Adds `name` to the chunk that holds `row` (chunks are in row order).
  void Name(uint32_t row, const std::string& name) {
    const auto it = std::lower_bound(last_rows_.begin(), last_rows_.end(), row);
    if (name.empty() || it == last_rows_.end()) return;
    retrieval::IndexedChunk& c = chunks_[static_cast<size_t>(it - last_rows_.begin())];
    if (row + 1 < c.line) return;  // the row is in a dropped whitespace window
    if (std::find(c.defines.begin(), c.defines.end(), name) == c.defines.end()) c.defines.push_back(name);
  }
  std::vector<retrieval::IndexedChunk> Take() { return std::move(chunks_); }

 private:
  std::string_view Rows(uint32_t first, uint32_t last) const {
    return text_.substr(line_starts_[first], line_starts_[last + 1] - line_starts_[first]);
  }
  std::string_view text_;
  ChunkOptions options_;
  std::vector<size_t> line_starts_ = {0};
  std::vector<retrieval::IndexedChunk> chunks_;
  std::vector<uint32_t> last_rows_;  // per chunk, ascending
};

}  // namespace

std::vector<retrieval::IndexedChunk> ChunkSource(std::string_view language, std::string_view text,
                                                 const ChunkOptions& options) {
  if (text.empty()) return {};
  ChunkCutter cutter(text, options);
  const std::vector<Definition> defs = HasGrammar(language) ? FindDefinitions(language, text)
                                                             : std::vector<Definition>{};
  // The outermost definitions that fit become chunks (parents come before their children).
  uint32_t next_row = 0;
  for (const Definition& d : defs) {
    if (d.first_row < next_row || !cutter.Fits(d)) continue;
    if (d.first_row > next_row) cutter.Windows(next_row, d.first_row - 1);
    cutter.Unit(d.first_row, d.last_row);
    next_row = d.last_row + 1;
  }
  if (next_row < cutter.rows()) cutter.Windows(next_row, cutter.rows() - 1);
  for (const Definition& d : defs) cutter.Name(d.first_row, d.name);
  return cutter.Take();
}

}  // namespace tune::data
