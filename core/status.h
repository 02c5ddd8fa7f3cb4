// Status propagation for tune. Abseil 20220623 has no RETURN_IF_ERROR / ASSIGN_OR_RETURN,
// so tune defines its own, plus Annotate() to add context while keeping the error code.
//
// Conventions (see docs/architecture.md): public fallible APIs return absl::Status or
// absl::StatusOr<T>; messages are lower-case, name the file/field and value, and end with
// "; hint: ..." when there is something the user can do.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TUNE_CONCAT_INNER_(a, b) a##b
#define TUNE_CONCAT_(a, b) TUNE_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define TUNE_RETURN_IF_ERROR(expr)                        \
  do {                                                    \
    if (absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

// TUNE_ASSIGN_OR_RETURN(auto x, Foo()); declares x on success, returns Foo()'s error otherwise.
#define TUNE_ASSIGN_OR_RETURN(lhs, rexpr) \
  TUNE_ASSIGN_OR_RETURN_IMPL_(TUNE_CONCAT_(_statusor_, __LINE__), lhs, rexpr)
#define TUNE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

namespace tune::core {

// Returns `status` with "context: " prefixed to its message; OK stays OK.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace tune::core
