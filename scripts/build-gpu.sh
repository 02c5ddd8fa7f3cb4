#!/usr/bin/env bash
# Builds and tests tune against CUDA LibTorch 2.x on the GPU machine (see docs/gpu.md).
# Run there from the repository root after `source .device-deps/remote-setup.sh`, which puts
# the pip LibTorch and the carried Debian libraries on CMAKE_PREFIX_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TORCH_PREFIX:?source .device-deps/remote-setup.sh first}"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES="86;89;90" -DTUNE_BUILD_BENCH=ON "$@"
ninja -C build-gpu
ctest --test-dir build-gpu --output-on-failure -j8
