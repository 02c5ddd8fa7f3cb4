#!/usr/bin/env bash
# The tests of every torch-free library, built with ASan + UBSan (scripts/build-sanitize.sh), then
# every fuzz target for a short smoke run (TUNE_FUZZ_SMOKE_SECONDS, default 10 s each, to keep .ci/run under its hour). LibTorch
# (Debian's, not built with ASan) makes the model/train/export/eval/cli tests impractical under
# sanitizers; they run in the normal build only (docs/robustness.md). Called by scripts/run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=(tune_core_tests tune_formats_tests tune_tokenizer_tests tune_tokenizer_spm_tests
       tune_gguf_tests tune_data_tests tune_inference_api_tests tune_inference_unit_tests
       tune_retrieval_tests tune_fuzz_regression_tests)
./scripts/build-sanitize.sh "${tests[@]}"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
for t in "${tests[@]}"; do
  binary="$(find build-sanitize -name "${t}" -type f -perm -u+x | head -n 1)"
  echo "sanitizer tests: ${t}"
  "${binary}" --gtest_brief=1
done
./scripts/fuzz.sh all "${TUNE_FUZZ_SMOKE_SECONDS:-10}"
