// The one place LibTorch exceptions become absl::Status: library entry points wrap their
// tensor work in CallTorch so callers see Status, never c10::Error.
#pragma once

#include <c10/util/Exception.h>

#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"

namespace tune::model {

// Runs fn(); c10::OutOfMemoryError -> ResourceExhausted, other c10::Error -> Internal, with
// `what` prefixed. fn may return a value, a Status or a StatusOr.
template <typename Fn>
auto CallTorch(std::string_view what, Fn&& fn) {
  using R = std::invoke_result_t<Fn>;
  using Out = std::conditional_t<std::is_same_v<R, absl::Status>, absl::Status,
                                 std::conditional_t<std::is_void_v<R>, absl::Status, R>>;
  auto fail = [&](absl::StatusCode code, const char* message) -> Out {
    return absl::Status(code, absl::StrFormat("%s: %s", what, message));
  };
  try {
    if constexpr (std::is_void_v<R>) {
      fn();
      return Out(absl::OkStatus());
    } else {
      return Out(fn());
    }
  } catch (const c10::OutOfMemoryError& e) {
    return fail(absl::StatusCode::kResourceExhausted, e.what_without_backtrace());
  } catch (const c10::Error& e) {
    return fail(absl::StatusCode::kInternal, e.what_without_backtrace());
  }
}

}  // namespace tune::model
