#!/usr/bin/env bash
# Builds llama.cpp's `llama` and `ggml` as static libraries from third_party/llama.cpp (see
# scripts/fetch-llama-cpp.sh) and installs them into a cache outside the clone, one folder per
# llama.cpp commit and flavour, so that later builds and CI runs on the same machine reuse it:
#   ${TUNE_LLAMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tune/llama.cpp}/<commit>-<flavour>/install
# Prints that install prefix on its last line (scripts/build.sh passes it to CMake).
#
# Flavours: cpu (default): GGML_NATIVE=OFF, i.e. the SSE4.2/AVX/AVX2/FMA/F16C/BMI2 baseline that
# runs on any x86-64 machine of the last decade; cuda (TUNE_LLAMA_CUDA=1): adds GGML_CUDA=ON for
# the architectures in CMAKE_CUDA_ARCHITECTURES (default 90).
# With TUNE_LLAMA_SERVER=1 it also builds llama.cpp's own `llama-server` (bench/serve's baseline)
# into <prefix>/bin. Takes ~4.5 minutes on 2 cores the first time; nothing when cached.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="${root}/third_party/llama.cpp"
[ -f "${src}/.tune-commit" ] || "${root}/scripts/fetch-llama-cpp.sh" >&2
commit="$(cat "${src}/.tune-commit")"
flavour=cpu
cuda_args=()
if [ "${TUNE_LLAMA_CUDA:-0}" = 1 ]; then
  flavour=cuda
  cuda_args=(-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${CMAKE_CUDA_ARCHITECTURES:-90}")
fi
cache="${TUNE_LLAMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tune/llama.cpp}/${commit:0:12}-${flavour}"
prefix="${cache}/install"
want_server="${TUNE_LLAMA_SERVER:-0}"
cached() {
  [ -f "${prefix}/.complete" ] && { [ "${want_server}" != 1 ] || [ -x "${prefix}/bin/llama-server" ]; }
}
if cached; then
  echo "${prefix}"
  exit 0
fi
mkdir -p "${cache}"
# The lock keeps two builds (two CI runs, or a build and a test) from writing the cache at once;
# whoever waited for it looks again, since the other one may have built what it needs.
exec 9>"${cache}/.lock"
flock 9
if cached; then
  echo "${prefix}"
  exit 0
fi
targets=(llama ggml)
[ "${want_server}" = 1 ] && targets+=(llama-server)
echo "build-llama-cpp: building ${targets[*]} (${flavour}) into ${cache}" >&2
cmake -S "${src}" -B "${cache}/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF -DGGML_OPENMP=ON -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS="$([ "${want_server}" = 1 ] && echo ON || echo OFF)" \
  -DLLAMA_BUILD_SERVER="$([ "${want_server}" = 1 ] && echo ON || echo OFF)" -DLLAMA_OPENSSL=OFF \
  "${cuda_args[@]}" >"${cache}/configure.log" 2>&1 ||
  { tail -30 "${cache}/configure.log" >&2; exit 1; }
ninja -C "${cache}/build" -j"${TUNE_JOBS:-2}" "${targets[@]}" >&2
# The prefix holds only what tune links: the public headers and the static libraries.
rm -rf "${prefix}" && mkdir -p "${prefix}/include" "${prefix}/lib"
cp "${src}/include/llama.h" "${src}"/ggml/include/*.h "${prefix}/include/"
find "${cache}/build" -name 'lib*.a' \( -name 'libllama.a' -o -name 'libggml*.a' \) -exec cp {} "${prefix}/lib/" \;
if [ -x "${cache}/build/bin/llama-server" ]; then
  mkdir -p "${prefix}/bin" && cp "${cache}/build/bin/llama-server" "${prefix}/bin/"
fi
echo "${commit}" > "${prefix}/.complete"
echo "${prefix}"
