#!/usr/bin/env bash
# README set-up command 1: install dependencies, build `tune`, and run the main job on the
# embedded default. The pipeline is being built issue by issue; this runs every stage that
# exists today and says which stages are still to come.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
TUNE_TARGET=tune ./scripts/build.sh
tune=./build/cli/tune
model=../shared/fixtures/hf-reference/tiny-llama
echo "== tune debug generate: greedy decoding with the tiny llama model"
"$tune" debug generate --config configs/tiny.toml --model "$model" --ids 394,201,227,468,106,365,335,362 --max-new 16
echo "== tune debug generate: the same with its LoRA adapter merged"
"$tune" debug generate --config configs/tiny.toml --model "$model" --adapter "$model/adapter" --merge \
  --ids 394,201,227,468,106,365,335,362 --max-new 16
echo "Not yet available: tune ingest, train, export, serve (see docs/status.md)."
