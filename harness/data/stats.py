"""Descriptive statistics of any DiffGround dataset: counts per split and edit type, query lengths, box sizes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from harness.data.schema import Sample

# Query length histogram bins, in words: [lo, hi) each; the last bin is open-ended.
QUERY_WORD_BINS: tuple[int, ...] = (1, 4, 7, 10, 13, 16)
AREA_QUANTILES: tuple[int, ...] = (0, 10, 25, 50, 75, 90, 100)


def _word_histogram(lengths: list[int]) -> dict[str, int]:
    """Counts per word-count bin, labelled "lo-hi" (inclusive); an empty query counts under "0"."""
    counts = {"0": sum(1 for n in lengths if n < QUERY_WORD_BINS[0])}
    edges = list(QUERY_WORD_BINS)
    for lo, hi in zip(edges, edges[1:] + [None], strict=True):
        label = f"{lo}-{hi - 1}" if hi is not None else f"{lo}+"
        counts[label] = sum(1 for n in lengths if n >= lo and (hi is None or n < hi))
    return counts


def compute_stats(samples: list[Sample], info: dict) -> dict[str, Any]:
    """JSON-able summary of a dataset; `info` is its dataset.json (may be {})."""
    splits = sorted({s.split for s in samples})
    edit_types = sorted({s.edit_type for s in samples})
    counts: dict[str, dict[str, int]] = {}
    for split in splits:
        per_type = Counter(s.edit_type for s in samples if s.split == split)
        counts[split] = {edit: per_type.get(edit, 0) for edit in edit_types}
        counts[split]["total"] = sum(per_type.values())
    lengths = [len(s.query.split()) for s in samples]
    areas = np.array([s.box_area for s in samples], dtype=np.float64)
    query_check = info.get("query_check", {}) if isinstance(info, dict) else {}
    return {
        "name": info.get("name") if isinstance(info, dict) else None,
        "n_samples": len(samples),
        "n_pairs": len({(s.split, s.pair_id) for s in samples}),
        "counts": counts,
        "edit_types": edit_types,
        "query_words": {
            "min": min(lengths) if lengths else 0,
            "mean": round(float(np.mean(lengths)), 3) if lengths else 0.0,
            "max": max(lengths) if lengths else 0,
            "histogram": _word_histogram(lengths),
        },
        "box_size": {
            "coco": {
                bucket: sum(1 for s in samples if s.size_bucket == bucket) for bucket in ("small", "medium", "large")
            },
            "area_quantiles": {
                f"p{q}": round(float(np.percentile(areas, q)), 2) if areas.size else 0.0 for q in AREA_QUANTILES
            },
        },
        "query_check": {
            "rewritten": query_check.get("rewritten"),
            "dropped": query_check.get("dropped"),
        },
    }


def render_stats(stats: dict, console: Console) -> None:
    """Print `compute_stats` output as rich tables."""
    title = stats.get("name") or "dataset"
    counts = Table(title=f"{title}: {stats['n_samples']} queries, {stats['n_pairs']} pairs")
    counts.add_column("split")
    for edit in stats["edit_types"]:
        counts.add_column(edit, justify="right")
    counts.add_column("total", justify="right")
    for split, row in stats["counts"].items():
        counts.add_row(split, *(str(row[e]) for e in stats["edit_types"]), str(row["total"]))
    console.print(counts)

    words = stats["query_words"]
    lengths = Table(title=f"query length (words): min {words['min']}, mean {words['mean']}, max {words['max']}")
    lengths.add_column("words")
    lengths.add_column("queries", justify="right")
    for label, n in words["histogram"].items():
        if n or label != "0":
            lengths.add_row(label, str(n))
    console.print(lengths)

    boxes = Table(title="target boxes")
    boxes.add_column("measure")
    boxes.add_column("value", justify="right")
    for bucket, n in stats["box_size"]["coco"].items():
        boxes.add_row(f"COCO {bucket}", str(n))
    for q, area in stats["box_size"]["area_quantiles"].items():
        boxes.add_row(f"area {q} (px²)", f"{area:.0f}")
    console.print(boxes)

    check = stats["query_check"]
    if check.get("rewritten") is not None or check.get("dropped") is not None:
        console.print(f"query check: {check.get('rewritten')} rewritten, {check.get('dropped')} dropped (ambiguous)")
