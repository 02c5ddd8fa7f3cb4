#!/usr/bin/env bash
# Configures and builds tune into ./build (Release with debug info). Extra arguments go to CMake,
# e.g. scripts/build.sh -DTUNE_BUILD_BENCH=OFF. Set TUNE_TARGET to build one target only.
set -euo pipefail
cd "$(dirname "$0")/.."
# llama.cpp's static libraries, built once per llama.cpp commit into a cache outside the clone.
llama_prefix="$(./scripts/build-llama-cpp.sh | tail -n 1)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTUNE_LLAMA_PREFIX="${llama_prefix}" "$@" >/dev/null
# Two jobs: one LibTorch translation unit needs about 1 GB of compiler memory.
ninja -C build -j"${TUNE_JOBS:-2}" ${TUNE_TARGET:-}
