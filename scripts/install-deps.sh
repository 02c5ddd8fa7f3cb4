#!/usr/bin/env bash
# Installs every build and test dependency of tune from Debian 12 packages.
# Idempotent: packages already present are skipped by apt. Needs root (or sudo).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread  # Debian's LibTorch calls BLAS: OpenBLAS is ~20x the reference one
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libcpp-httplib-dev
  libgit2-dev libtree-sitter-dev libsentencepiece-dev sentencepiece
  libxxhash-dev libzstd-dev curl ca-certificates
  clang libclang-rt-14-dev libomp-dev  # ASan + UBSan + libFuzzer build (scripts/build-sanitize.sh; llama.cpp's OpenMP under clang)
  libgloo-dev  # headers of the Gloo backend Debian's LibTorch is built with (tune train --nproc)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node + npm run llama.cpp (node-llama-cpp) in interop tests; some images ship them outside dpkg.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The tree-sitter grammars `tune ingest` compiles in (pinned npm packages, not committed).
"$(dirname "$0")/fetch-grammars.sh"
# node-llama-cpp@3.21.1 (pinned): llama.cpp's release source for the bundled runner, unpacked into
# third_party/llama.cpp, and its CPU prebuilt that the interop tests compare against.
"$(dirname "$0")/install-node-tools.sh"
"$(dirname "$0")/fetch-llama-cpp.sh"
