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

namespace internal {
template <typename R>
struct TorchResult {
  using type = absl::StatusOr<R>;
};
template <>
struct TorchResult<void> {
  using type = absl::Status;
};
template <>
struct TorchResult<absl::Status> {
  using type = absl::Status;
};
template <typename T>
struct TorchResult<absl::StatusOr<T>> {
  using type = absl::StatusOr<T>;
};
}  // namespace internal

// Runs fn(); c10::OutOfMemoryError -> ResourceExhausted, other c10::Error -> Internal, with
// `what` prefixed. fn may return void, a value T (-> StatusOr<T>), a Status or a StatusOr.
template <typename Fn>
auto CallTorch(std::string_view what, Fn&& fn) -> typename internal::TorchResult<std::invoke_result_t<Fn>>::type {
  using R = std::invoke_result_t<Fn>;
  auto fail = [&](absl::StatusCode code, const char* message) {
    return absl::Status(code, absl::StrFormat("%s: %s", what, message));
  };
  try {
    if constexpr (std::is_void_v<R>) {
      fn();
      return absl::OkStatus();
    } else {
      return fn();
    }
  } catch (const c10::OutOfMemoryError& e) {
    return fail(absl::StatusCode::kResourceExhausted, e.what_without_backtrace());
  } catch (const c10::Error& e) {
    return fail(absl::StatusCode::kInternal, e.what_without_backtrace());
  }
}

}  // namespace tune::model
