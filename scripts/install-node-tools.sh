#!/usr/bin/env bash
# Installs the node tools tune's interop tests and benchmarks use, pinned, into .cache/node
# (gitignored; override with TUNE_NODE_PREFIX):
#   node-llama-cpp 3.21.1  llama.cpp's CPU prebuilt behind a node API. tests/tools/llama_cpp/*.mjs
#                          load tune's GGUF exports with it; tests/gguf also dlopen its
#                          libggml-base.so to compare quantizers byte for byte.
# The exact dependency tree is tests/tools/llama_cpp/package-lock.json (npm ci). Idempotent: does
# nothing when that tree is already installed. Needs node + npm (scripts/install-deps.sh) and
# the npm registry.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${TUNE_NODE_PREFIX:-${repo_root}/.cache/node}"
lock="${repo_root}/tests/tools/llama_cpp/package-lock.json"
if [ -f "${prefix}/node_modules/.package-lock.json" ] && [ -f "${prefix}/package-lock.json" ] &&
  cmp -s "${lock}" "${prefix}/package-lock.json"; then
  exit 0
fi
mkdir -p "${prefix}"
cp "${repo_root}/tests/tools/llama_cpp/package.json" "${lock}" "${prefix}/"
# --ignore-scripts: node-llama-cpp's postinstall would build llama.cpp from source when no
# prebuilt matches the host; the tests want the prebuilt CPU binary and say so when it is absent.
npm ci --prefix "${prefix}" --no-audit --no-fund --ignore-scripts
