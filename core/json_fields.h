// Typed, checked reads of the fields of tune's JSON files (eval-benchmark.json, retrain's
// state.json, train's run.json, retrieval.jsonl) and of PEFT's adapter_config.json: a field that is
// missing, of another type or out of range is an error naming the file and the field's path
// ("tasks[3].begin") with the file's hint, never an exception. Numbers are checked before
// nlohmann's get<>, which converts 1e30 to an integer unchecked (undefined behaviour, found by
// fuzzing), and on a const object the field is found with find(), never operator[] (a missing key
// there is undefined behaviour too).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tune::core {

class JsonFields {
 public:
  // `origin`: the file named in every error; `hint`: what to do about it; `code`: DataLoss for
  // files tune writes, InvalidArgument for files a user brings.
  JsonFields(std::string origin, std::string hint, absl::StatusCode code = absl::StatusCode::kDataLoss);

  // "'ORIGIN' field FIELD: WHAT; hint: HINT".
  absl::Status Error(std::string_view field, std::string_view what) const;

  // The header of a tune file: "format" equal to `format` (not checked when empty) and an integer
  // "format_version" equal to `version`. Another version is FailedPrecondition:
  // "'ORIGIN' has format_version N, this tune reads M; hint: HINT".
  absl::Status CheckHeader(const nlohmann::json& j, std::string_view format, uint64_t version) const;

  // Whether `j` is an object holding `key` with a value other than null.
  static bool Has(const nlohmann::json& j, std::string_view key);

  // j[key], which must be of `type` (number_unsigned also accepts a non-negative integer).
  // `where` prefixes the key in errors ("tasks[3].").
  absl::StatusOr<const nlohmann::json*> Field(const nlohmann::json& j, std::string_view key,
                                              nlohmann::json::value_t type, std::string_view where = "") const;
  absl::StatusOr<std::string> String(const nlohmann::json& j, std::string_view key, std::string_view where = "") const;
  absl::StatusOr<bool> Bool(const nlohmann::json& j, std::string_view key, std::string_view where = "") const;
  // An integer in [0, max].
  absl::StatusOr<uint64_t> Unsigned(const nlohmann::json& j, std::string_view key, uint64_t max,
                                    std::string_view where = "") const;
  // A finite number in [min, max].
  absl::StatusOr<double> Number(const nlohmann::json& j, std::string_view key, double min, double max,
                                std::string_view where = "") const;

 private:
  std::string origin_, hint_;
  absl::StatusCode code_;
};

}  // namespace tune::core
