#!/usr/bin/env bash
# Builds the benchmark repository for bench/ingest: the machine's Python standard library
# (python3's sysconfig stdlib, without site-packages / dist-packages and bytecode caches;
# ~2,400 files here), committed as one git repository.
# Usage: bench/ingest/make_stdlib_repo.sh [DEST]   (default /tmp/tune-bench-stdlib)
set -euo pipefail
dest="${1:-/tmp/tune-bench-stdlib}"
stdlib="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
rm -rf "${dest}"
mkdir -p "${dest}"
(cd "${stdlib}" &&
   find . -type f -not -path './site-packages/*' -not -path './dist-packages/*' \
     -not -path '*/__pycache__/*' -not -name '*.pyc' -print0 | tar --null -cf - -T -) |
  (cd "${dest}" && tar -xf -)
cd "${dest}"
git init -q
git -c user.name=bench -c user.email=bench@example.com add -A
git -c user.name=bench -c user.email=bench@example.com commit -q -m "python stdlib snapshot"
echo "bench repo: ${dest} ($(git ls-files | wc -l) files, $(git archive HEAD | wc -c) bytes in git archive)"
