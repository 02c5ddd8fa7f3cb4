#!/usr/bin/env bash
# README set-up command 1: install dependencies, build `tune`, and run the main job on the
# embedded default: mine this repository with the tiny model's tokenizer, QLoRA-train the tiny
# llama model on it, complete a prompt with the trained adapter, and export a GGUF.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
TUNE_TARGET=tune ./scripts/build.sh
tune=./build/cli/tune
model=../shared/fixtures/hf-reference/tiny-llama
work=${TUNE_WORK_DIR:-build/default-run}
mkdir -p "$work"
echo "== tune ingest: this repository -> $work/dataset"
"$tune" ingest --repo . --config configs/tiny.toml --tokenizer "$model/tokenizer.model" --out "$work/dataset" --quiet
echo "== tune train: QLoRA on the tiny llama model -> $work/adapter"
rm -rf "$work/adapter"  # a fresh run each time (tune train refuses to overwrite a run without --resume)
"$tune" train --config configs/tiny.toml --base "$model" --data "$work/dataset" --out "$work/adapter"
echo "== tune debug generate: complete \"int main(\" with the trained adapter"
ids=$("$tune" debug tokenize --tokenizer "$model/tokenizer.model" --text "int main(")
ids=${ids#[}; ids=${ids%]}
out=$("$tune" debug generate --config configs/tiny.toml --model "$model" --adapter "$work/adapter" --ids "$ids" --max-new 24)
echo "ids: $out"
echo "text: $("$tune" debug tokenize --tokenizer "$model/tokenizer.model" --decode --text "$out")"
echo "== tune export: merge the adapter, quantize to Q8_0 -> $work/tiny-Q8_0.gguf (+ Ollama Modelfile)"
"$tune" export --base "$model" --adapter "$work/adapter" --quant Q8_0 --out "$work/tiny-Q8_0.gguf"
echo "Still to come: tune serve, complete, eval, retrain (docs/status.md)."
