#!/usr/bin/env bash
# README set-up command 1: install dependencies, build `tune`, then run the whole loop on the
# embedded default and this repository (scripts/quickstart.sh): ingest -> train -> eval (base vs
# tuned) -> export -> serve in the background -> one fill-in-the-middle request exactly as the
# llama.vscode editor plugin sends it -> the completion -> server stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
./scripts/install-deps.sh
TUNE_TARGET=tune ./scripts/build.sh
echo "== install and build: $(( $(date +%s) - started )) s"
exec ./scripts/quickstart.sh
