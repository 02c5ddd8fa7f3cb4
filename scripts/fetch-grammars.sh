#!/usr/bin/env bash
# Fetches the tree-sitter grammars `tune ingest` uses for structure-aware FIM into the gitignored
# third_party/grammars/<lang>/ (parser.c, scanner.c, tree_sitter/*.h). They are not committed:
# parser.c files are generated tables of several MB each.
#
# Versions are pinned: Debian 12's libtree-sitter 0.20.7 loads grammars of ABI <= 14, and the 0.23
# releases below are the last ones generated at ABI 14 (0.25 grammars are ABI 15 and refused).
# Idempotent: a grammar whose VERSION file matches the pin is skipped. Needs npm (registry access).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${root}/third_party/grammars"
declare -A pins=(
  [python]=0.23.6 [javascript]=0.23.1 [typescript]=0.23.2 [c]=0.23.6
  [cpp]=0.23.4 [go]=0.23.4 [rust]=0.23.3 [java]=0.23.5
)
command -v npm >/dev/null || { echo "fetch-grammars: npm not found; hint: apt-get install npm" >&2; exit 1; }
mkdir -p "${dest}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
for lang in "${!pins[@]}"; do
  version="${pins[$lang]}"
  out="${dest}/${lang}"
  if [ -f "${out}/VERSION" ] && [ "$(cat "${out}/VERSION")" = "${version}" ]; then
    continue
  fi
  echo "fetch-grammars: tree-sitter-${lang}@${version}"
  if ! (cd "${work}" && npm pack --loglevel=error "tree-sitter-${lang}@${version}" >/dev/null); then
    echo "fetch-grammars: npm could not fetch tree-sitter-${lang}@${version} (npm's error above); hint: 'npm ping' checks the registry, its proxy and certificate settings" >&2
    exit 1
  fi
  tarball="${work}/tree-sitter-${lang}-${version}.tgz"
  mkdir -p "${work}/${lang}"
  tar -xzf "${tarball}" -C "${work}/${lang}"
  pkg="${work}/${lang}/package"
  # typescript ships two grammars (typescript/ and tsx/) that share common/scanner.h.
  src="${pkg}/src"
  [ "${lang}" = typescript ] && src="${pkg}/typescript/src"
  rm -rf "${out}" && mkdir -p "${out}/tree_sitter"
  cp "${src}/parser.c" "${out}/"
  [ -f "${src}/scanner.c" ] && cp "${src}/scanner.c" "${out}/"
  cp "${src}"/tree_sitter/*.h "${out}/tree_sitter/"
  if [ "${lang}" = typescript ]; then
    mkdir -p "${out}/common"
    cp "${pkg}/common/scanner.h" "${out}/common/"
    sed -i 's|"../../common/scanner.h"|"common/scanner.h"|' "${out}/scanner.c"
  fi
  abi="$(grep -m1 -o 'LANGUAGE_VERSION [0-9]*' "${out}/parser.c" | awk '{print $2}')"
  if [ "${abi}" -gt 14 ]; then
    echo "fetch-grammars: tree-sitter-${lang}@${version} is ABI ${abi}; libtree-sitter 0.20 needs <= 14" >&2
    exit 1
  fi
  echo "${version}" > "${out}/VERSION"
done
echo "fetch-grammars: grammars in ${dest}"
