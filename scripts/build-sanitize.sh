#!/usr/bin/env bash
# Configures ./build-sanitize (clang, ASan + UBSan, libFuzzer's coverage instrumentation, the fuzz
# targets on) and builds the ninja targets given as arguments. Used by scripts/fuzz.sh and
# scripts/run-sanitizer-tests.sh; only torch-free targets are built there (docs/robustness.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# TUNE_LLAMA_PREFIX: an existing llama.cpp prefix (default: scripts/build-llama-cpp.sh, cached).
llama_prefix="${TUNE_LLAMA_PREFIX:-$(./scripts/build-llama-cpp.sh | tail -n 1)}"
# C++ only: the C sources are third-party tree-sitter grammar tables.
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="${sanitize} -fsanitize=fuzzer-no-link" \
  -DCMAKE_EXE_LINKER_FLAGS="${sanitize}" \
  -DTUNE_FUZZ=ON -DTUNE_BUILD_BENCH=OFF -DTUNE_LLAMA_PREFIX="${llama_prefix}" >/dev/null
ninja -C build-sanitize -j"${TUNE_JOBS:-2}" "$@"
