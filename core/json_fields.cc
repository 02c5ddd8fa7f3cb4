#include "core/json_fields.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace tune::core {

using nlohmann::json;

JsonFields::JsonFields(std::string origin, std::string hint, absl::StatusCode code)
    : origin_(std::move(origin)), hint_(std::move(hint)), code_(code) {}

absl::Status JsonFields::Error(std::string_view field, std::string_view what) const {
  return absl::Status(code_, absl::StrFormat("'%s' field %s: %s; hint: %s", origin_, field, what, hint_));
}

absl::Status JsonFields::CheckHeader(const json& j, std::string_view format, uint64_t version) const {
  if (!format.empty()) {
    absl::StatusOr<std::string> found = String(j, "format");
    if (!found.ok()) return found.status();
    if (*found != format) return Error("format", absl::StrFormat("is not \"%s\"", format));
  }
  absl::StatusOr<uint64_t> found = Unsigned(j, "format_version", 1 << 30);
  if (!found.ok()) return found.status();
  if (*found != version) {
    return absl::FailedPreconditionError(absl::StrFormat("'%s' has format_version %d, this tune reads %d; hint: %s",
                                                         origin_, *found, version, hint_));
  }
  return absl::OkStatus();
}

bool JsonFields::Has(const json& j, std::string_view key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && !it->is_null();
}

absl::StatusOr<const json*> JsonFields::Field(const json& j, std::string_view key, json::value_t type,
                                              std::string_view where) const {
  const std::string field = std::string(where) + std::string(key);
  if (!j.is_object()) return Error(where.empty() ? "(top level)" : where, "is not an object");
  auto it = j.find(key);
  if (it == j.end()) return Error(field, "is missing");
  const bool ok = it->type() == type ||
                  (type == json::value_t::number_unsigned && it->is_number_integer() && it->get<int64_t>() >= 0) ||
                  (type == json::value_t::number_float && it->is_number());
  if (!ok) return Error(field, absl::StrFormat("has the wrong type (%s)", it->type_name()));
  return &*it;
}

absl::StatusOr<std::string> JsonFields::String(const json& j, std::string_view key, std::string_view where) const {
  absl::StatusOr<const json*> v = Field(j, key, json::value_t::string, where);
  if (!v.ok()) return v.status();
  return (*v)->get<std::string>();
}

absl::StatusOr<bool> JsonFields::Bool(const json& j, std::string_view key, std::string_view where) const {
  absl::StatusOr<const json*> v = Field(j, key, json::value_t::boolean, where);
  if (!v.ok()) return v.status();
  return (*v)->get<bool>();
}

absl::StatusOr<uint64_t> JsonFields::Unsigned(const json& j, std::string_view key, uint64_t max,
                                              std::string_view where) const {
  absl::StatusOr<const json*> v = Field(j, key, json::value_t::number_unsigned, where);
  if (!v.ok()) return v.status();
  const uint64_t n = (*v)->get<uint64_t>();
  if (n > max) return Error(std::string(where) + std::string(key), absl::StrFormat("%d is out of range (at most %d)", n, max));
  return n;
}

absl::StatusOr<double> JsonFields::Number(const json& j, std::string_view key, double min, double max,
                                          std::string_view where) const {
  absl::StatusOr<const json*> v = Field(j, key, json::value_t::number_float, where);
  if (!v.ok()) return v.status();
  const double x = (*v)->get<double>();
  if (!std::isfinite(x) || x < min || x > max) {
    return Error(std::string(where) + std::string(key), absl::StrFormat("%g is out of range [%g, %g]", x, min, max));
  }
  return x;
}

}  // namespace tune::core
