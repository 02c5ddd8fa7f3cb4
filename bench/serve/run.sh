#!/usr/bin/env bash
# bench/serve: `tune serve` against llama.cpp's own `llama-server`, built from the same llama.cpp
# source, in one run, on the same GGUF files. One command:
#
#   bench/serve/run.sh
#
# It writes a random-weight Qwen2.5-Coder-0.5B-shaped checkpoint (Qwen3's tokenizer: the same
# vocabulary and FIM tokens), exports it with `tune export` to each of $QUANTS, and for each GGUF
# starts llama-server, runs serve_bench against it and stops it, then does the same with
# `tune serve` (one server at a time: the benchmark is meant for a small CPU machine), and prints
# a table per quant with the ratio tune / llama-server. Both servers get the same settings:
# $THREADS threads, $PARALLEL slots, $CTX KV tokens, batch $BATCH / ubatch $UBATCH, and
# llama-server's best FIM settings (--cache-reuse 256; the requests send cache_prompt).
#
# BATCH defaults to 2048, not llama.vscode's 1024: both servers keep only the last 3/4 x batch
# tokens of an /infill prefix, and the FIM scenario's prefix is 1,500 tokens, all of which should
# reach the model. BATCH=1024 measures the 768-token window instead.
#
# Environment (defaults): BUILD (build) SHAPE (0.5b; or 1.5b) LAYERS (0: all of the shape's)
# QUANTS ("Q8_0 Q4_K_M") THREADS (2) PARALLEL (4) CTX (16384) BATCH (2048) UBATCH (512)
# CACHE_REUSE (256) ROUNDS (5) CONCURRENT_SECONDS (20) CLIENTS (4) SCENARIO (all)
# PORT (18431; tune gets PORT+1) WORK (a new /tmp/tune-serve-bench.* directory, removed at the
# end unless KEEP=1) LLAMA_SERVER (from TUNE_LLAMA_SERVER=1 scripts/build-llama-cpp.sh)
# TUNE (BUILD/cli/tune).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${root}"

BUILD="${BUILD:-build}"
SHAPE="${SHAPE:-0.5b}"
LAYERS="${LAYERS:-0}"
QUANTS="${QUANTS:-Q8_0 Q4_K_M}"
THREADS="${THREADS:-2}"
PARALLEL="${PARALLEL:-4}"
CTX="${CTX:-16384}"
BATCH="${BATCH:-2048}"
UBATCH="${UBATCH:-512}"
CACHE_REUSE="${CACHE_REUSE:-256}"
ROUNDS="${ROUNDS:-5}"
CONCURRENT_SECONDS="${CONCURRENT_SECONDS:-20}"
CLIENTS="${CLIENTS:-4}"
SCENARIO="${SCENARIO:-all}"
PORT="${PORT:-18431}"
TUNE="${TUNE:-${root}/${BUILD}/cli/tune}"
bench="${root}/${BUILD}/bench/serve/serve_bench"
checkpoint_maker="${root}/${BUILD}/bench/serve/serve_bench_checkpoint"

log() { echo "[bench/serve] $*" >&2; }

# --- what is needed: tune, serve_bench, the checkpoint writer, llama-server -----------------------
if [ ! -x "${TUNE}" ] || [ ! -x "${bench}" ] || [ ! -x "${checkpoint_maker}" ]; then
  log "building tune, serve_bench and serve_bench_checkpoint in ${BUILD}"
  ninja -C "${BUILD}" tune serve_bench serve_bench_checkpoint >&2
fi
if [ -z "${LLAMA_SERVER:-}" ]; then
  prefix="$(TUNE_LLAMA_SERVER=1 "${root}/scripts/build-llama-cpp.sh" | tail -n 1)"
  LLAMA_SERVER="${prefix}/bin/llama-server"
fi
[ -x "${LLAMA_SERVER}" ] || { log "no llama-server at ${LLAMA_SERVER}"; exit 1; }
llama_extra=()
if "${LLAMA_SERVER}" --help 2>&1 | grep -q -- '--no-webui'; then llama_extra+=(--no-webui); fi

WORK="${WORK:-$(mktemp -d /tmp/tune-serve-bench.XXXXXX)}"
mkdir -p "${WORK}"
server_pid=""
stop_server() {
  [ -n "${server_pid}" ] || return 0
  kill -TERM "${server_pid}" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "${server_pid}" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "${server_pid}" 2>/dev/null || true
  wait "${server_pid}" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  stop_server
  if [ "${KEEP:-0}" = 1 ]; then log "kept ${WORK}"; else rm -rf "${WORK}"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the model ------------------------------------------------------------------------------------
ckpt="${WORK}/checkpoint"
if [ ! -f "${ckpt}/model.safetensors" ]; then
  "${checkpoint_maker}" --out "${ckpt}" --shape "${SHAPE}" --layers "${LAYERS}" >&2
fi

# run_one NAME URL LOG -- COMMAND...: starts the server, waits for /health, measures, stops it.
run_one() {
  local name="$1" url="$2" logfile="$3"
  shift 4
  log "starting ${name}: $*"
  "$@" >"${logfile}" 2>&1 &
  server_pid=$!
  if ! "${bench}" --url "${url}" --wait 600; then
    log "${name} did not become healthy; the end of ${logfile}:"
    tail -n 30 "${logfile}" >&2
    stop_server
    return 1
  fi
  local rc=0
  "${bench}" --url "${url}" --name "${name}" --scenario "${SCENARIO}" --rounds "${ROUNDS}" \
    --concurrent-seconds "${CONCURRENT_SECONDS}" --clients "${CLIENTS}" \
    --json-out "${WORK}/${name}.${quant}.json" || rc=$?
  if ! kill -0 "${server_pid}" 2>/dev/null; then
    log "${name} exited during the benchmark; the end of ${logfile}:"
    tail -n 30 "${logfile}" >&2
    rc=1
  fi
  stop_server
  [ "${rc}" = 0 ] || log "${name}: serve_bench reported errors (rc ${rc}); see above"
  return 0
}

tables="${WORK}/tables.txt"
: >"${tables}"
for quant in ${QUANTS}; do
  gguf="${WORK}/model-${quant}.gguf"
  log "exporting ${quant}"
  "${TUNE}" export --base "${ckpt}" --quant "${quant}" --out "${gguf}" >&2

  run_one llama-server "http://127.0.0.1:${PORT}" "${WORK}/llama-server.${quant}.log" -- \
    "${LLAMA_SERVER}" -m "${gguf}" --host 127.0.0.1 --port "${PORT}" -t "${THREADS}" \
    -tb "${THREADS}" -np "${PARALLEL}" -c "${CTX}" -b "${BATCH}" -ub "${UBATCH}" \
    --cache-reuse "${CACHE_REUSE}" "${llama_extra[@]}"

  tune_port=$((PORT + 1))
  run_one tune "http://127.0.0.1:${tune_port}" "${WORK}/tune.${quant}.log" -- \
    "${TUNE}" serve --model "${gguf}" --host 127.0.0.1 --port "${tune_port}" --threads "${THREADS}" \
    --parallel "${PARALLEL}" --ctx-size "${CTX}" --batch-size "${BATCH}" --ubatch-size "${UBATCH}" \
    --cache-reuse "${CACHE_REUSE}"

  if [ -f "${WORK}/llama-server.${quant}.json" ] && [ -f "${WORK}/tune.${quant}.json" ]; then
    "${bench}" --baseline "${WORK}/llama-server.${quant}.json" --candidate "${WORK}/tune.${quant}.json" \
      --title "${SHAPE} $([ "${LAYERS}" = 0 ] || echo "(${LAYERS} layers) ")${quant}, ${THREADS} threads, ${PARALLEL} slots, -c ${CTX} -b ${BATCH} -ub ${UBATCH} --cache-reuse ${CACHE_REUSE}, ${ROUNDS} rounds, ${CLIENTS} clients x ${CONCURRENT_SECONDS} s" \
      >>"${tables}"
  else
    echo "${quant}: no comparison (a server failed; see the log above)" >>"${tables}"
  fi
done

echo
echo "=== tune serve vs llama-server ($(basename "${LLAMA_SERVER}") from the same llama.cpp source) ==="
echo "ratio = tune / llama-server: above 1 is better for tok/s and req/s, below 1 is better for ms."
cat "${tables}"
