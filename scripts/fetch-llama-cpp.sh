#!/usr/bin/env bash
# Unpacks llama.cpp's release source into the gitignored third_party/llama.cpp/. The source comes
# from the pinned npm package node-llama-cpp@3.21.1 (scripts/install-node-tools.sh): its
# llama/gitRelease.bundle is a git bundle of the llama.cpp release it wraps, and
# llama/llama.cpp.info.json names the release. Nothing else is downloaded.
#
# Idempotent: a checkout already at the bundle's commit is kept. Prints nothing on success unless
# it unpacked something.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_prefix="${TUNE_NODE_PREFIX:-${root}/.cache/node}"
pkg="${node_prefix}/node_modules/node-llama-cpp/llama"
bundle="${pkg}/gitRelease.bundle"
dest="${root}/third_party/llama.cpp"
if [ ! -f "${bundle}" ]; then
  echo "fetch-llama-cpp: ${bundle} not found; hint: run scripts/install-node-tools.sh first" >&2
  exit 1
fi
commit="$(git bundle list-heads "${bundle}" | awk 'NR==1{print $1}')"
if [ -f "${dest}/.tune-commit" ] && [ "$(cat "${dest}/.tune-commit")" = "${commit}" ]; then
  exit 0
fi
tag="$(sed -n 's/.*"tag": *"\([^"]*\)".*/\1/p' "${pkg}/llama.cpp.info.json")"
echo "fetch-llama-cpp: llama.cpp ${tag} (${commit:0:12}) from node-llama-cpp's bundle"
rm -rf "${dest}.tmp" "${dest}"
mkdir -p "$(dirname "${dest}")"
git -c advice.detachedHead=false clone --quiet "${bundle}" "${dest}.tmp"
git -C "${dest}.tmp" checkout --quiet "${commit}"
echo "${commit}" > "${dest}.tmp/.tune-commit"
echo "${tag}" > "${dest}.tmp/.tune-tag"
mv "${dest}.tmp" "${dest}"
