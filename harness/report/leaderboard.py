"""The markdown leaderboard: per model overall, per edit type and size with 95% CIs, cost, controls, failures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.data.schema import EDIT_TYPES
from harness.files.atomic import write_text_atomic
from harness.metrics import acc_key
from harness.metrics.box_iou import HIT_IOU
from harness.metrics.iou_thresholds import with_main_threshold
from harness.report.controls import (
    CONTROL_DESCRIPTIONS,
    CONTROL_KINDS,
    control_accuracy,
    split_controls,
    uses_input,
)
from harness.report.failure_taxonomy import FAILURE_CLASSES, FAILURE_DESCRIPTIONS, HIT
from harness.report.markdown_text import md_code, md_text
from harness.report.runs import LoadedRun, merge_runs
from harness.run.run_records import COST_COLUMNS, ModelEntry, cost_values

LEADERBOARD_MD = "leaderboard.md"
SIZE_BUCKETS = ("small", "medium", "large")
SCORED_MARK = "†"
SCORED_NOTE = (
    "scored from a predictions file (harness score): the harness did not run the model, "
    "so its size and speed are not known"
)
SCORED_CONTROLS_NOTE = "scored from a predictions file: controls cannot apply to a file, so its control columns show —"


def model_name_md(entry: ModelEntry) -> str:
    """The model's name as a table cell, marked when it was scored from a predictions file."""
    return md_code(entry.name) + (SCORED_MARK if entry.scored else "")


def trained_elsewhere_lines(entries: list[ModelEntry], fingerprint: str, name: Callable[[str], str]) -> list[str]:
    """One line per training set other than the evaluated dataset, naming the models whose weights'
    provenance says they were trained on it (their scores are then transfer, not in-distribution)."""
    groups: dict[str, list[str]] = {}
    for e in entries:
        trained = (e.trained_on or {}).get("fingerprint") if e.done else None
        if trained and trained != fingerprint and "@" not in e.name:
            groups.setdefault(trained, []).append(e.name)
    return [
        f"Trained on another dataset (training set fingerprint {name(trained[:16])}, from the checkpoints' "
        f"provenance): {', '.join(name(n) for n in sorted(names))}."
        for trained, names in sorted(groups.items())
    ]


def format_metric(block: dict[str, Any] | None) -> str:
    """`43.2 [40.1, 46.3]` in percent, or `—` when the value is missing."""
    if not block or block.get("value") is None:
        return "—"
    value = 100.0 * block["value"]
    ci = block.get("ci")
    if not ci or ci[0] is None:
        return f"{value:.1f}"
    return f"{value:.1f} [{100.0 * ci[0]:.1f}, {100.0 * ci[1]:.1f}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def acc_thresholds(runs: list[LoadedRun]) -> tuple[float, ...]:
    """The Acc@τ thresholds the runs were scored at (their union; 0.5 always among them)."""
    return with_main_threshold(t for run in runs for t in run.info.config.iou_thresholds)


def overall_columns(thresholds: Sequence[float]) -> list[tuple[str, str]]:
    """(metric key, header) of the overall table's score columns: Acc@0.5 and mIoU first, then Acc@τ
    at the other thresholds, cIoU."""
    others = [(acc_key(t), f"Acc@{t:g}") for t in sorted(thresholds) if t != HIT_IOU]
    return [(acc_key(HIT_IOU), f"Acc@{HIT_IOU:g}"), ("miou", "mIoU"), *others, ("ciou", "cIoU")]


def ranked_models(entries: list[ModelEntry]) -> list[ModelEntry]:
    """Models that ran (control runs left out), best Acc@0.5 first."""
    models, _ = split_controls(entries)
    done = [e for e in models if e.done and e.metrics]
    return sorted(done, key=lambda e: (-(e.metrics["overall"]["acc@0.5"]["value"] or 0.0), e.name))


def edit_types_of(entries: list[ModelEntry]) -> list[str]:
    seen = {k for e in entries if e.metrics for k in e.metrics.get("by", {}).get("edit_type", {})}
    return [t for t in EDIT_TYPES if t in seen] + sorted(seen - set(EDIT_TYPES))


def render_leaderboard(
    runs: list[LoadedRun],
    failure_counts: dict[str, dict[str, int]] | None = None,
    extra_sections: list[str] | None = None,
    iou_thresholds: Sequence[float] | None = None,
) -> str:
    """The whole markdown page; `failure_counts` ({model: {class: count}}) adds the taxonomy table and
    `extra_sections` (markdown lines, e.g. other splits side by side) go after the controls. The
    overall table shows Acc@τ at `iou_thresholds` (default: those the runs were scored at)."""
    entries = merge_runs(runs)
    columns = overall_columns(iou_thresholds or acc_thresholds(runs))
    first = runs[-1].info
    dataset = first.dataset
    ranked = ranked_models(entries)
    edit_types = edit_types_of(ranked)
    lines = [
        f"# IDG leaderboard: {md_text(dataset.name)} / {md_text(first.split)}",
        "",
        "Generated by `harness report` from "
        + ", ".join(md_code(f"results/{r.run_id}") for r in runs)
        + "; do not edit by hand.",
        "",
        f"- Dataset: {md_text(dataset.name)} (version {md_text(dataset.version or '—')}, "
        f"fingerprint {md_code(dataset.fingerprint[:16])}), split {md_code(first.split)}, "
        f"{dataset.n_samples} samples scored.",
        f"- Invalid samples skipped: {dataset.invalid_count}.",
        *(f"- {line}" for line in trained_elsewhere_lines(entries, dataset.fingerprint, md_code)),
        "- Scores in percent; brackets are 95% bootstrap confidence intervals (seeded, resampling samples). "
        "A sample is a hit at Acc@τ when the top-1 box has IoU ≥ τ with the target; errors count as misses.",
        "",
        "## Overall",
        "",
    ]
    rows = []
    for rank, e in enumerate(ranked, start=1):
        o = e.metrics["overall"]
        ap50 = o.get("ap50")
        rows.append(
            [
                str(rank),
                model_name_md(e),
                str(o["n"]),
                *(format_metric(o.get(key)) for key, _ in columns),
                "—" if ap50 is None else f"{100 * ap50:.1f}",
                str(e.metrics.get("errors", 0)),
            ]
        )
    header = ["#", "Model", "N", *(title for _, title in columns), "AP50", "Errors"]
    lines += _table(header, rows)
    if any(e.scored for e in ranked):
        lines += ["", f"{SCORED_MARK} {SCORED_NOTE}."]
    sections = (
        ("edit_type", edit_types, "acc@0.5", "Acc@0.5 by edit type"),
        ("edit_type", edit_types, "miou", "mIoU by edit type"),
        ("size", SIZE_BUCKETS, "acc@0.5", "Acc@0.5 by target size (COCO buckets)"),
    )
    for stratum, groups, metric, title in sections:
        lines += ["", f"## {title}", ""]
        rows = []
        for e in ranked:
            by = e.metrics.get("by", {}).get(stratum, {})
            rows.append([model_name_md(e)] + [format_metric(by.get(g, {}).get(metric)) for g in groups])
        counts = ranked[0].metrics.get("by", {}).get(stratum, {}) if ranked else {}
        lines += _table(["Model"] + [f"{md_text(g)} (n={counts.get(g, {}).get('n', 0)})" for g in groups], rows)
    lines += _cost_section(ranked)
    lines += _pixel_section(ranked)
    lines += _controls_section(entries)
    if failure_counts:
        lines += _failure_section(ranked, failure_counts)
    lines += extra_sections or []
    not_run = [e for e in entries if e.status != "done"]
    if not_run:
        lines += ["", "## Models not run", ""]
        rows = [
            [md_code(e.name), e.status, md_text(e.reason or ""), md_text(e.how_to_enable or "")]
            for e in sorted(not_run, key=lambda e: e.name)
        ]
        lines += _table(["Model", "Status", "Why", "How to enable"], rows)
    return "\n".join(lines) + "\n"


def _cost_section(ranked: list[ModelEntry]) -> list[str]:
    """The cost columns of harness/run/run_records.py; computed and cached share one cell here."""
    rows = []
    for e in ranked:
        cells = {title: text for title, _, text in cost_values(e)}
        computed_cached = f"{cells.pop('Computed')} / {cells.pop('Cached')}"
        rows.append([model_name_md(e), *cells.values(), computed_cached])
    header = ["Model"] + [title for title, _, _ in COST_COLUMNS if title not in ("Computed", "Cached")]
    return ["", "## Size and speed", ""] + _table([*header, "Computed / cached"], rows)


PIXEL_COLUMNS = (("pairs", "Pairs"), ("precision", "Precision"), ("recall", "Recall"), ("f1", "F1"), ("iou", "IoU"))


def pixel_rows(ranked: list[ModelEntry]) -> list[tuple[str, list[float | int | None]]]:
    """(model, [pairs, precision, recall, f1, iou]) for models that returned change masks."""
    rows = []
    for e in ranked:
        pixel = e.metrics.get("pixel_change")
        if pixel:
            rows.append((e.name, [pixel.get(key) for key, _ in PIXEL_COLUMNS]))
    return rows


def _pixel_section(ranked: list[ModelEntry]) -> list[str]:
    rows = pixel_rows(ranked)
    if not rows:
        return []

    def cell(value: float | int | None, key: str) -> str:
        if value is None:
            return "—"
        return str(value) if key == "pairs" else f"{100 * value:.1f}"

    body = [
        [md_code(name)] + [cell(v, k) for v, (k, _) in zip(values, PIXEL_COLUMNS, strict=True)] for name, values in rows
    ]
    return ["", "## Pixel-level change detection (change class, counts summed over the split's pairs)", ""] + _table(
        ["Model"] + [title for _, title in PIXEL_COLUMNS], body
    )


def _controls_section(entries: list[ModelEntry]) -> list[str]:
    _, controls = split_controls(entries)
    if not controls:
        return []
    table = control_accuracy(controls)
    by_kind = {(c.base_model, c.kind): c for c in controls}
    normal = {e.name: e.metrics["overall"]["acc@0.5"] for e in entries if e.done and e.metrics}
    rows = []
    for base in sorted(table):
        row = [md_code(base), format_metric(normal.get(base))]
        for kind in CONTROL_KINDS:
            block = table[base].get(kind)
            row.append(format_metric(block) + drop_text(normal.get(base), block))
        row += [uses_input(by_kind.get((base, "query-shuffle"))), uses_input(by_kind.get((base, "a-blind")))]
        rows.append(row)
    scored = scored_models(entries)
    for e in scored:
        rows.append([model_name_md(e), format_metric(normal.get(e.name)), *("—" for _ in CONTROL_KINDS), "—", "—"])
    return (
        ["", "## Controls (Acc@0.5; drop from the normal run in brackets after ↓)", ""]
        + _table(["Model", "normal", *CONTROL_KINDS, "Uses query", "Uses A"], rows)
        + [""]
        + [f"- `{kind}`: {CONTROL_DESCRIPTIONS[kind]}" for kind in CONTROL_KINDS]
        + [
            "- Uses query / uses A: `yes` when the Acc@0.5 drop under query-shuffle / a-blind is significant "
            "(paired bootstrap 95% CI over the same samples lies above 0); the drop and its CI follow."
        ]
        + ([f"- {SCORED_MARK} {SCORED_CONTROLS_NOTE}."] if scored else [])
    )


def scored_models(entries: list[ModelEntry]) -> list[ModelEntry]:
    """The done models scored from predictions files, by name."""
    return sorted((e for e in entries if e.done and e.metrics and e.scored), key=lambda e: e.name)


def drop_text(normal: dict | None, control: dict | None) -> str:
    if not normal or not control or normal.get("value") is None or control.get("value") is None:
        return ""
    return f" ↓{100 * (normal['value'] - control['value']):.1f}"


def _failure_section(ranked: list[ModelEntry], counts: dict[str, dict[str, int]]) -> list[str]:
    rows = [
        [model_name_md(e), str(counts[e.name].get(HIT, 0))] + [str(counts[e.name].get(c, 0)) for c in FAILURE_CLASSES]
        for e in ranked
        if e.name in counts
    ]
    return (
        ["", "## Failure taxonomy (samples per class)", ""]
        + _table(["Model", HIT, *FAILURE_CLASSES], rows)
        + [""]
        + [f"- `{c}`: {FAILURE_DESCRIPTIONS[c]}" for c in FAILURE_CLASSES]
    )


def write_leaderboard(
    runs: list[LoadedRun],
    out_dir: Path,
    failure_counts: dict[str, dict[str, int]] | None = None,
    extra_sections: list[str] | None = None,
    iou_thresholds: Sequence[float] | None = None,
) -> Path:
    path = Path(out_dir) / LEADERBOARD_MD
    write_text_atomic(path, render_leaderboard(runs, failure_counts, extra_sections, iou_thresholds))
    return path
