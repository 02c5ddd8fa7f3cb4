#!/usr/bin/env bash
# The quickstart loop on the embedded default and this repository, after the build (README command
# 1 runs it through scripts/run-default.sh; tests/cli/quickstart_test.cc runs it shortened):
#   tiny base pretrained on generic C++ -> ingest -> train -> eval (base vs tuned) -> export -> serve in the background ->
#   one /infill request exactly as llama.vscode sends it -> the completion -> server stopped.
# Everything lands in $TUNE_WORK_DIR (default build/default-run).
#
# The embedded default is a tiny model (hidden 64, 2 layers, 512-token vocabulary), pretrained here
# for a few minutes: it shows the pipeline working end to end on a CPU, not useful completions
# (docs/eval.md).
set -euo pipefail
cd "$(dirname "$0")/.."
tune=${TUNE_BIN:-./build/cli/tune}
fixture=${TUNE_FIXTURE:-../shared/fixtures/hf-reference/tiny-llama}
work=${TUNE_WORK_DIR:-build/default-run}
steps=${TUNE_QUICKSTART_STEPS:-200}   # LoRA steps on this repository (the end-to-end test runs fewer)
pretrain_steps=${TUNE_QUICKSTART_PRETRAIN_STEPS:-1200}  # about 2.5 minutes on 2 cores
mkdir -p "$work"
started=$(date +%s)

# The tiny model (random weights) with tune's embedded tokenizer, whose vocabulary has FIM and repo
# tokens (configs/tokenizer/tiny-fim.model, 512 pieces), then pretrained, every weight, on generic
# C++ already on this machine (the Abseil, GoogleTest and libstdc++ headers install-deps put in
# /usr/include): a random model can only learn token frequencies from LoRA, a pretrained one
# learns the repository (docs/eval.md).
random_base="$work/tiny-random"
"$tune" debug tiny-base --out "$random_base" --fixture "$fixture" --tokenizer configs/tokenizer/tiny-fim.model
corpus="$work/generic-cpp"
if [ ! -d "$corpus/.git" ]; then
  mkdir -p "$corpus"
  for dir in /usr/include/absl /usr/include/gtest /usr/include/c++/*/bits; do
    [ -d "$dir" ] && cp -r "$dir" "$corpus/$(echo "$dir" | tr / _)"
  done
  git -C "$corpus" init -q
  git -C "$corpus" add -A
  git -C "$corpus" -c user.name=tune -c user.email=tune@localhost commit -qm "generic C++ from /usr/include"
fi
echo "== tune debug pretrain: the tiny model on $(du -sh "$corpus" | cut -f1) of generic C++ headers -> $work/base"
"$tune" ingest --repo "$corpus" --config configs/tiny.toml --tokenizer "$random_base/tokenizer.model" \
  --out "$work/generic-dataset" --set ingest.eval_fraction=0.02 --quiet > /dev/null
model="$work/base"
"$tune" debug pretrain --base "$random_base" --data "$work/generic-dataset" --out "$model" \
  --steps "$pretrain_steps" --batch-size 8 --seq-len 256 --lr 5e-3

echo "== tune ingest: this repository -> $work/dataset"
"$tune" ingest --repo . --config configs/tiny.toml --tokenizer "$model/tokenizer.model" --out "$work/dataset" --quiet
echo "== tune train: QLoRA on the tiny llama model -> $work/adapter"
rm -rf "$work/adapter"  # a fresh run each time (tune train refuses to overwrite a run without --resume)
"$tune" train --config configs/tiny.toml --base "$model" --data "$work/dataset" --out "$work/adapter" \
  --set train.steps="$steps"
echo "== tune eval: base vs tuned on fill-in-the-middle tasks from the held-out files -> $work/eval.html"
rm -f "$work/eval-benchmark.json"  # tasks from this run's held-out files
"$tune" eval --data "$work/dataset" --base "$model" --lora "$work/adapter" --fim-order spm --max-tasks 60 --retrieval \
  --benchmark "$work/eval-benchmark.json" --report "$work/eval.html" --json "$work/eval.json"
echo "== tune export: merge the adapter, quantize to Q8_0 -> $work/tiny-Q8_0.gguf (+ Ollama Modelfile)"
"$tune" export --base "$model" --adapter "$work/adapter" --quant Q8_0 --out "$work/tiny-Q8_0.gguf"

echo "== tune serve: $work/tiny-Q8_0.gguf on 127.0.0.1 (log: $work/serve.log)"
# --spm-infill: the tiny model fills in the middle only in SPM order (measured: docs/eval.md).
# --index: each /infill prompt also gets the dataset's retrieval chunks for the cursor (docs/retrieval.md).
"$tune" serve --model "$work/tiny-Q8_0.gguf" --port 0 --threads 2 --spm-infill --index "$work/dataset" \
  > "$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/serve.log")
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "tune serve did not start"; cat "$work/serve.log"; exit 1; }
# The body llama.vscode sends for a completion (its source: tests/inference/clients/).
request='{"id_slot":0,"input_prefix":"int main(int argc, char** argv) {\n","input_suffix":"\n  return 0;\n}\n","input_extra":[],"prompt":"  ","n_predict":24,"top_k":40,"top_p":0.99,"stream":false,"samplers":["top_k","top_p","infill"],"cache_prompt":true,"t_max_prompt_ms":500,"t_max_predict_ms":500}'
echo "POST http://127.0.0.1:$port/infill  (cursor after \"int main(int argc, char** argv) {\\n  \")"
curl -s --fail-with-body "http://127.0.0.1:$port/infill" -H 'Content-Type: application/json' -d "$request" > "$work/infill.json"
echo "completion: $(sed -n 's/.*"content":\("[^"]*\(\\.[^"]*\)*"\).*/\1/p' "$work/infill.json")"
echo "timings:    $(grep -o '"timings":{[^}]*}' "$work/infill.json")"
kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT
echo "== done: the loop took $(( $(date +%s) - started )) s."
echo "This is a tiny model (hidden 64, 2 layers) pretrained for minutes on a CPU: the point is the"
echo "pipeline and the eval table above, not the completion (docs/eval.md)."
echo "For a real model on a GPU: tune ingest/train with configs/qwen2.5-coder.toml and a"
echo "Qwen2.5-Coder checkpoint (docs/training.md), tune eval --base BASE --lora RUN (docs/eval.md),"
echo "tune export --quant Q4_K_M, then tune serve --model coder-Q4_K_M.gguf --parallel 3 and point"
echo "your editor at it (docs/serving.md); keep it current with a nightly tune retrain (docs/retrain.md)."
