#!/usr/bin/env bash
# Installs the optional mmdet extra: mmcv 2.1.0 with its compiled ops (built from PyPI's source, about
# 35 minutes on 2 cores), then mmdet 3.3.0. The built wheel is cached and reused on later runs.
#
# Usage: scripts/build_mmcv.sh [--build-deps | --wheel-only] [PYTHON]     (`make mmdet` runs it whole)
#   (no flag)     build deps, the mmcv wheel (or the cached one), then install it and '.[mmdet]'
#   --build-deps  only install what the build needs into the venv (setuptools 80.9.0, wheel, ninja)
#   --wheel-only  build deps + build and cache the wheel; installs nothing else, so it can run in the
#                 background beside a test suite that uses the same venv (.ci/run does that)
# PYTHON defaults to .venv/bin/python.
# Env: IDG_WHEEL_CACHE (default ~/.cache/idg-harness/wheels), MAX_JOBS (parallel compiles, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="all"
case "${1:-}" in
    --build-deps) MODE="deps"; shift ;;
    --wheel-only) MODE="wheel"; shift ;;
    -*) echo "unknown flag $1; see the usage at the top of $0" >&2; exit 2 ;;
esac
PY="${1:-.venv/bin/python}"
MMCV_VERSION="2.1.0"
CACHE_ROOT="${IDG_WHEEL_CACHE:-$HOME/.cache/idg-harness/wheels}"
export MAX_JOBS="${MAX_JOBS:-2}"
PIP=("$PY" -m pip install --quiet --disable-pip-version-check)

log() { echo "[build_mmcv $(date +%H:%M:%S)] $*"; }

if [ ! -x "$PY" ]; then
    echo "$PY not found: create the venv first (make install)" >&2
    exit 1
fi

# mmcv's setup.py imports pkg_resources (gone from setuptools 81 on) and torch, hence no build isolation.
"${PIP[@]}" "setuptools==80.9.0" wheel ninja
[ "$MODE" = "deps" ] && exit 0

# The compiled ops link against one torch build and one Python: key the cache on both.
TORCH_VERSION="$("$PY" -c 'import torch; print(torch.__version__)')"
PY_TAG="$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
WHEEL_DIR="$CACHE_ROOT/mmcv-$MMCV_VERSION-torch$TORCH_VERSION"
mkdir -p "$WHEEL_DIR"

has_compiled_ops() {
    "$PY" -c "import importlib.metadata as m, mmcv._ext; assert m.version('mmcv') == '$MMCV_VERSION'" 2>/dev/null
}

cached_wheel() {
    ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-"$PY_TAG"-*.whl 2>/dev/null | head -n 1 || true
}

build_wheel() {
    local src
    src="$(mktemp -d)"
    log "downloading the mmcv $MMCV_VERSION source"
    "$PY" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation -d "$src" "mmcv==$MMCV_VERSION"
    tar -xzf "$src/mmcv-$MMCV_VERSION.tar.gz" -C "$src"
    # torch 2.14's headers need C++20; mmcv 2.1.0 asks for C++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/mmcv-$MMCV_VERSION/setup.py"
    log "building the mmcv wheel (MAX_JOBS=$MAX_JOBS, CPU ops only; about 35 minutes on 2 cores)"
    local start built
    start=$(date +%s)
    MMCV_WITH_OPS=1 FORCE_CUDA=0 nice -n 19 "$PY" -m pip wheel --no-build-isolation --no-deps \
        --disable-pip-version-check -w "$src/dist" "$src/mmcv-$MMCV_VERSION"
    built="$(ls "$src"/dist/mmcv-"$MMCV_VERSION"-*.whl)"
    # Copy then rename, so a killed build never leaves a half-written wheel in the cache.
    cp "$built" "$WHEEL_DIR/.partial" && mv "$WHEEL_DIR/.partial" "$WHEEL_DIR/$(basename "$built")"
    rm -rf "$src"
    log "built $(basename "$built") in $(($(date +%s) - start)) s, cached in $WHEEL_DIR"
}

if [ "$MODE" = "wheel" ] || ! has_compiled_ops; then
    if [ -n "$(cached_wheel)" ]; then
        log "reusing the cached wheel $(cached_wheel)"
    else
        build_wheel
    fi
fi
[ "$MODE" = "wheel" ] && exit 0

if has_compiled_ops; then
    log "mmcv $MMCV_VERSION with compiled ops is already installed"
else
    "${PIP[@]}" "$(cached_wheel)"
fi
log "installing mmdet (the idg-harness[mmdet] extra)"
"${PIP[@]}" -e ".[mmdet]"
if ! has_compiled_ops; then
    log "mmcv._ext still does not import; delete $WHEEL_DIR to rebuild"
    exit 1
fi
log "done: $("$PY" -c 'import mmcv, mmdet; print("mmcv", mmcv.__version__, "mmdet", mmdet.__version__)')"
