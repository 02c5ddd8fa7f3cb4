#!/usr/bin/env bash
# Builds and tests tune against CUDA LibTorch 2.x on the GPU machine (see docs/gpu.md).
# Run there from the repository root after `source .device-deps/remote-setup.sh`, which puts
# the pip LibTorch and the carried Debian libraries on CMAKE_PREFIX_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TORCH_PREFIX:?source .device-deps/remote-setup.sh first}"
# llama.cpp with its CUDA backend for the runner (TUNE_LLAMA_CUDA=0: CPU only). Its source must be
# in third_party/llama.cpp (scripts/fetch-llama-cpp.sh here, carried to the machine).
llama_prefix="$(TUNE_LLAMA_CUDA="${TUNE_LLAMA_CUDA:-1}" CMAKE_CUDA_ARCHITECTURES="${CMAKE_CUDA_ARCHITECTURES:-90}" \
  TUNE_JOBS="$(nproc)" ./scripts/build-llama-cpp.sh | tail -n 1)"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES="86;89;90" -DTUNE_BUILD_BENCH=ON -DTUNE_LLAMA_PREFIX="${llama_prefix}" "$@"
ninja -C build-gpu
ctest --test-dir build-gpu --output-on-failure -j8
