"""Metrics computed once per (outcomes, strata, IoU thresholds, metrics code): a rerun that recomputed
no prediction also skips the bootstrap and pycocotools, which dominate a cached rerun otherwise; a
rerun at other thresholds finds no entry and recomputes from the same outcomes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import harness.metrics
from harness.files.atomic import write_json_atomic
from harness.metrics import DEFAULT_IOU_THRESHOLDS, SampleOutcome, compute_metrics


@lru_cache(maxsize=1)
def metrics_code_hash() -> str:
    """Hash of the metrics package's source: a change to how numbers are computed invalidates."""
    digest = hashlib.sha256()
    for path in sorted(Path(harness.metrics.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def outcomes_key(
    outcomes: Sequence[SampleOutcome], strata: Sequence[str], thresholds: Sequence[float] = DEFAULT_IOU_THRESHOLDS
) -> str:
    digest = hashlib.sha256(metrics_code_hash().encode())
    digest.update(json.dumps(sorted(strata)).encode())
    digest.update(json.dumps(sorted(float(t) for t in thresholds)).encode())
    for o in sorted(outcomes, key=lambda o: o.id):
        row = [o.id, list(o.target), o.boxes.tolist(), o.scores.tolist(), o.error, sorted(o.strata.items())]
        digest.update(json.dumps(row).encode() + b"\n")
    return digest.hexdigest()


def cached_metrics(
    outcomes: Sequence[SampleOutcome],
    strata: Sequence[str],
    cache_dir: Path,
    thresholds: Sequence[float] = DEFAULT_IOU_THRESHOLDS,
) -> dict[str, Any]:
    """compute_metrics(outcomes, thresholds, strata), read from `cache_dir` when already computed."""
    path = Path(cache_dir) / f"{outcomes_key(outcomes, strata, thresholds)[:40]}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            pass  # unreadable (torn or edited by hand): recompute
    metrics = compute_metrics(outcomes, thresholds=sorted(float(t) for t in thresholds), strata=list(strata))
    write_json_atomic(path, metrics)
    return metrics
