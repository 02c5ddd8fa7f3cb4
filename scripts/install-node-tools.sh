#!/usr/bin/env bash
# Installs the node tools tune's interop tests use, pinned, into .cache/node (gitignored):
#   node-llama-cpp@3.21.1  llama.cpp's CPU prebuilt binaries behind a node API; the GGUF tests
#                          load tune's exports with it (tools/llama_cpp/*.mjs).
# Idempotent: does nothing when the pinned version is already installed. Needs node + npm
# (scripts/install-deps.sh installs them) and the npm registry.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${repo_root}/.cache/node"
version="3.21.1"
installed="${prefix}/node_modules/node-llama-cpp/package.json"
if [ -f "${installed}" ] && grep -q "\"version\": \"${version}\"" "${installed}"; then
  exit 0
fi
mkdir -p "${prefix}"
# --ignore-scripts: the postinstall would try to build llama.cpp from source when no prebuilt
# binary matches; the tests want the prebuilt CPU binary only, and say so when it is missing.
npm install --prefix "${prefix}" --no-audit --no-fund --save-exact --ignore-scripts \
  "node-llama-cpp@${version}"
