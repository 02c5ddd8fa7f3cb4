#!/usr/bin/env bash
# README set-up command 2: install dependencies, build everything, run every test with CTest.
# GPU-only tests (label `cuda`, names ending in _CUDA) skip themselves without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
ctest --test-dir build --output-on-failure -j"${TUNE_JOBS:-2}" --timeout 900
# The torch-free libraries' tests again under ASan + UBSan, and a fuzz smoke run of every target.
./scripts/run-sanitizer-tests.sh
