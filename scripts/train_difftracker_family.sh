#!/usr/bin/env bash
# Train DiffTracker and its five controls with one recipe (default: difftracker/configs/v2-quick.yaml),
# all at once: on one GPU the six small jobs share it; on a CPU machine set JOBS=1 to run them in turn.
#   scripts/train_difftracker_family.sh [CONFIG] [OUTPUT_ROOT]
# THREADS=N passes --threads N (torch threads per job; 1 when two jobs share 2 cores).
# DATASET=DIR trains on DIR instead of the default data/diffground-synth (e.g. one with robust train pairs).
# Each model lands in OUTPUT_ROOT/<model>/ (export/model.safetensors + provenance.json, log.csv, curve.png).
set -euo pipefail
CONFIG=${1:-difftracker/configs/v2-quick.yaml}
OUTPUT_ROOT=${2:-results/train}
JOBS=${JOBS:-6}
HARNESS=${HARNESS:-harness}
MODELS=${MODELS:-"difftracker difftracker-nodem late-fusion early-fusion concat-canvas mdetr-style"}
THREADS_ARG=()
if [ -n "${THREADS:-}" ]; then THREADS_ARG=(--threads "$THREADS"); fi
DATASET_ARG=()
if [ -n "${DATASET:-}" ]; then DATASET_ARG=(--dataset "$DATASET"); fi
mkdir -p "$OUTPUT_ROOT"
running=0
for model in $MODELS; do
    $HARNESS train "$model" --config "$CONFIG" --output "$OUTPUT_ROOT/$model" "${THREADS_ARG[@]}" "${DATASET_ARG[@]}" >"$OUTPUT_ROOT/$model.log" 2>&1 &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
status=0
while [ "$running" -gt 0 ]; do wait -n || status=1; running=$((running - 1)); done
for model in $MODELS; do tail -n 3 "$OUTPUT_ROOT/$model.log"; done
exit $status
