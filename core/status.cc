#include "core/status.h"

#include "absl/strings/str_format.h"

namespace tune::core {

absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrFormat("%s: %s", context, status.message()));
}

}  // namespace tune::core
