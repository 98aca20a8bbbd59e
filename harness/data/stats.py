"""Descriptive statistics of any DiffGround dataset: counts per split and edit type, query lengths, box sizes,
and, for datasets whose samples record their wording (DiffGround-Synth 2: attributes `frame`, `lexicon`,
`phrasing`), the frame and lexicon coverage per split and the overlap between train and test-novel."""

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


TRAIN_SPLIT = "train"
NOVEL_SPLIT = "test-novel"


def _phrasing_stats(samples: list[Sample], info: dict) -> dict[str, Any] | None:
    """Frames and lexicon entries used per split, against what the split's phrasing may use.

    None when no sample records a frame. `overlap` lists the frames and entries that occur in both
    train and test-novel (held-out phrasing: it must be empty).
    """
    worded = [s for s in samples if isinstance(s.attributes.get("frame"), str)]
    if not worded:
        return None
    language = info.get("language", {}) if isinstance(info, dict) else {}
    inventory = language.get("inventory", {}) if isinstance(language, dict) else {}
    frames: dict[str, set[str]] = {}
    entries: dict[str, set[str]] = {}
    phrasing: dict[str, Counter] = {}
    for s in worded:
        frames.setdefault(s.split, set()).add(s.attributes["frame"])
        entries.setdefault(s.split, set()).update(str(e) for e in s.attributes.get("lexicon") or ())
        phrasing.setdefault(s.split, Counter())[str(s.attributes.get("phrasing", "unknown"))] += 1
    per_split = {}
    for split in sorted(frames):
        kind = phrasing[split].most_common(1)[0][0]
        available = {
            what: inventory.get(what, {}).get(kind) if isinstance(inventory.get(what), dict) else None
            for what in ("frames", "lexicon")
        }
        per_split[split] = {
            "phrasing": dict(sorted(phrasing[split].items())),
            "frames_used": len(frames[split]),
            "frames_available": available["frames"],
            "lexicon_used": len(entries[split]),
            "lexicon_available": available["lexicon"],
        }
    train_frames, novel_frames = frames.get(TRAIN_SPLIT, set()), frames.get(NOVEL_SPLIT, set())
    train_entries, novel_entries = entries.get(TRAIN_SPLIT, set()), entries.get(NOVEL_SPLIT, set())
    return {
        "per_split": per_split,
        "overlap": {
            "between": [TRAIN_SPLIT, NOVEL_SPLIT],
            "frames": sorted(train_frames & novel_frames),
            "lexicon": sorted(train_entries & novel_entries),
        },
    }


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
            **({"per_split": query_check["per_split"]} if isinstance(query_check.get("per_split"), dict) else {}),
        },
        "phrasing": _phrasing_stats(samples, info),
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
    for split, row in (check.get("per_split") or {}).items():
        console.print(f"  {split}: {row.get('rewritten')} rewritten, {row.get('dropped')} dropped")
    if stats.get("phrasing"):
        _render_phrasing(stats["phrasing"], console)


def _used_of(used: int, available: int | None) -> str:
    return f"{used}/{available}" if available else str(used)


def _render_phrasing(phrasing: dict, console: Console) -> None:
    table = Table(title="phrasing coverage (frames and lexicon entries used / usable by the split's phrasing)")
    for column in ("split", "phrasing", "frames", "lexicon entries"):
        table.add_column(column, justify="left" if column in ("split", "phrasing") else "right")
    for split, row in phrasing["per_split"].items():
        table.add_row(
            split,
            ", ".join(f"{k} {v}" for k, v in row["phrasing"].items()),
            _used_of(row["frames_used"], row["frames_available"]),
            _used_of(row["lexicon_used"], row["lexicon_available"]),
        )
    console.print(table)
    overlap = phrasing["overlap"]
    a, b = overlap["between"]
    console.print(
        f"overlap {a} / {b}: {len(overlap['frames'])} frames, {len(overlap['lexicon'])} lexicon entries"
        + (" (held-out phrasing leaked!)" if overlap["frames"] or overlap["lexicon"] else " (none: held out)")
    )
