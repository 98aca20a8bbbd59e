"""`leaderboards/index.html`: sortable tables with CIs, size/speed, failure classes and inline plots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from harness.report import plots
from harness.report.controls import (
    CONTROL_DESCRIPTIONS,
    CONTROL_KINDS,
    control_accuracy,
    split_controls,
    uses_input,
)
from harness.report.failure_taxonomy import FAILURE_CLASSES, FAILURE_DESCRIPTIONS, HIT
from harness.report.html_page import Cell, esc, html_document, html_table, metric_cell, number_cell
from harness.report.leaderboard import (
    PIXEL_COLUMNS,
    SCORED_CONTROLS_NOTE,
    SCORED_MARK,
    SCORED_NOTE,
    SIZE_BUCKETS,
    acc_thresholds,
    edit_types_of,
    overall_columns,
    pixel_rows,
    ranked_models,
    scored_models,
    trained_elsewhere_lines,
)
from harness.report.per_sample import SampleResult
from harness.report.runs import LoadedRun, merge_runs
from harness.run.run_records import COST_COLUMNS, ModelEntry


def _value_ci(block: dict | None) -> tuple[float | None, float | None, float | None]:
    if not block or block.get("value") is None:
        return None, None, None
    ci = block.get("ci") or [None, None]
    return (
        100 * block["value"],
        None if ci[0] is None else 100 * ci[0],
        None if ci[1] is None else 100 * ci[1],
    )


def _name_html(entry: ModelEntry) -> str:
    """The model's name, marked (with a tooltip) when it was scored from a predictions file."""
    mark = f'<span title="{esc(SCORED_NOTE)}">{SCORED_MARK}</span>' if entry.scored else ""
    return f"<code>{esc(entry.name)}</code>{mark}"


def _overall_table(ranked: list[ModelEntry], gallery_links: dict[str, str], columns: list[tuple[str, str]]) -> str:
    rows = []
    for rank, e in enumerate(ranked, start=1):
        o = e.metrics["overall"]
        link = gallery_links.get(e.name)
        name = _name_html(e) + (f' <a href="{esc(link)}">failures</a>' if link else "")
        ap50 = o.get("ap50")
        rows.append(
            [
                number_cell(rank),
                Cell(name, numeric=False),
                number_cell(o["n"]),
                *(metric_cell(o.get(key)) for key, _ in columns),
                number_cell(None if ap50 is None else 100 * ap50, "{:.1f}"),
                number_cell(e.metrics.get("errors", 0)),
            ]
        )
    header = ["#", "Model", "N", *(title for _, title in columns), "AP50", "Errors"]
    return html_table(header, rows, table_id="overall")


def _stratum_table(ranked: list[ModelEntry], stratum: str, groups: list[str], metric: str, table_id: str) -> str:
    counts = ranked[0].metrics.get("by", {}).get(stratum, {}) if ranked else {}
    rows = []
    for e in ranked:
        by = e.metrics.get("by", {}).get(stratum, {})
        rows.append([Cell(_name_html(e), numeric=False)] + [metric_cell(by.get(g, {}).get(metric)) for g in groups])
    header = ["Model"] + [f"{g} (n={counts.get(g, {}).get('n', 0)})" for g in groups]
    return html_table(header, rows, table_id=table_id)


def _cost_table(ranked: list[ModelEntry]) -> str:
    """The cost columns of harness/run/run_records.py, one number per cell."""
    rows = []
    for e in ranked:
        cells = [Cell(_name_html(e), numeric=False)]
        for _, get, pattern in COST_COLUMNS:
            cells.append(number_cell(get(e), "{:,}" if pattern == "{}" else pattern))
        rows.append(cells)
    return html_table(["Model", *(title for title, _, _ in COST_COLUMNS)], rows, table_id="cost")


def _failure_table(ranked: list[ModelEntry], counts: dict[str, Counter], gallery_links: dict[str, str]) -> str:
    rows = []
    for e in ranked:
        if e.name not in counts:
            continue
        link = gallery_links.get(e.name)
        name = _name_html(e) + (f' <a href="{esc(link)}">gallery</a>' if link else "")
        rows.append(
            [Cell(name, numeric=False), number_cell(counts[e.name].get(HIT, 0))]
            + [number_cell(counts[e.name].get(c, 0)) for c in FAILURE_CLASSES]
        )
    legend = "".join(f"<li><b>{esc(c)}</b>: {esc(FAILURE_DESCRIPTIONS[c])}</li>" for c in FAILURE_CLASSES)
    return html_table(["Model", HIT, *FAILURE_CLASSES], rows, table_id="failures") + f'<ul class="note">{legend}</ul>'


def _controls_html(entries: list[ModelEntry]) -> str:
    _, controls = split_controls(entries)
    if not controls:
        return ""
    table = control_accuracy(controls)
    normal = {e.name: e.metrics["overall"]["acc@0.5"] for e in entries if e.done and e.metrics}
    rows, series = [], {"normal": []}
    series.update({kind: [] for kind in CONTROL_KINDS})
    bases = sorted(table)
    for base in bases:
        row = [Cell(f"<code>{esc(base)}</code>", numeric=False), metric_cell(normal.get(base))]
        series["normal"].append(_value_ci(normal.get(base)))
        for kind in CONTROL_KINDS:
            block = table[base].get(kind)
            series[kind].append(_value_ci(block))
            drop = None
            if block and normal.get(base) and block.get("value") is not None and normal[base].get("value") is not None:
                drop = 100 * (normal[base]["value"] - block["value"])
            row += [metric_cell(block), number_cell(drop, "{:+.1f}")]
        by_kind = {c.kind: c for c in controls if c.base_model == base}
        row += [
            Cell(esc(uses_input(by_kind.get("query-shuffle"))), numeric=False),
            Cell(esc(uses_input(by_kind.get("a-blind"))), numeric=False),
        ]
        rows.append(row)
    scored = scored_models(entries)
    for e in scored:
        blanks = [metric_cell(None) for _ in range(2 * len(CONTROL_KINDS))] + [Cell("—", numeric=False)] * 2
        rows.append([Cell(_name_html(e), numeric=False), metric_cell(normal.get(e.name)), *blanks])
    header = ["Model", "normal"] + [f"{k}{suffix}" for k in CONTROL_KINDS for suffix in ("", " drop")]
    header += ["Uses query", "Uses A"]
    image = plots.grouped_bars(bases, series, "Acc@0.5 under controls", "Acc@0.5 (%)")
    notes = "".join(f"<li><b>{esc(k)}</b>: {esc(CONTROL_DESCRIPTIONS[k])}</li>" for k in CONTROL_KINDS)
    if scored:
        notes += f"<li>{SCORED_MARK} {esc(SCORED_CONTROLS_NOTE)}</li>"
    return (
        "<h2>Controls</h2>"
        + html_table(header, rows, table_id="controls")
        + f'<ul class="note">{notes}</ul>'
        + _figure(image, "Acc@0.5 of each model's normal run and its controls (95% CIs)")
    )


def _figure(uri: str, caption: str) -> str:
    return f'<figure><img src="{uri}" alt="{esc(caption)}"><figcaption>{esc(caption)}</figcaption></figure>'


def _plots_html(
    ranked: list[ModelEntry],
    edit_types: list[str],
    sample_results: dict[str, list[SampleResult]],
    counts: dict[str, Counter],
) -> str:
    names = [e.name for e in ranked]
    acc = np.array(
        [
            [
                np.nan
                if (v := e.metrics.get("by", {}).get("edit_type", {}).get(t, {}).get("acc@0.5", {}).get("value"))
                is None
                else 100 * v
                for t in edit_types
            ]
            for e in ranked
        ],
        dtype=float,
    ).reshape(len(ranked), len(edit_types))
    figures = [_figure(plots.edit_type_heatmap(names, edit_types, acc), "Acc@0.5 by edit type and model")]
    ious = {n: np.array([r.iou for r in sample_results[n]]) for n in names if n in sample_results}
    if ious:
        figures.append(_figure(plots.accuracy_vs_threshold(ious), "Acc@τ as the IoU threshold τ varies"))
        figures.append(_figure(plots.iou_distribution(ious), "Distribution of top-1 IoU (log scale above 1%)"))
    sizes = {
        e.name: [_value_ci(e.metrics.get("by", {}).get("size", {}).get(s, {}).get("acc@0.5")) for s in SIZE_BUCKETS]
        for e in ranked
    }
    figures.append(
        _figure(
            plots.grouped_bars(list(SIZE_BUCKETS), sizes, "Acc@0.5 by target size", "Acc@0.5 (%)"),
            "Acc@0.5 by COCO size bucket of the target (95% CIs)",
        )
    )
    if counts:
        shown = [n for n in names if n in counts]
        classes = [HIT, *FAILURE_CLASSES]
        matrix = np.array([[counts[n].get(c, 0) for c in classes] for n in shown])
        figures.append(_figure(plots.failure_class_bars(shown, classes, matrix), "Outcome classes per model"))
    return '<div class="plots">' + "".join(figures) + "</div>"


def _code(text: str) -> str:
    return f"<code>{esc(text)}</code>"


def render_html_leaderboard(
    runs: list[LoadedRun],
    sample_results: dict[str, list[SampleResult]] | None = None,
    gallery_links: dict[str, str] | None = None,
    notes: list[str] | None = None,
    extra_html: str = "",
    iou_thresholds: Sequence[float] | None = None,
) -> str:
    """The whole page. Without `sample_results` (dataset not at hand) the per-sample parts are left out.
    The overall table shows Acc@τ at `iou_thresholds` (default: those the runs were scored at)."""
    entries = merge_runs(runs)
    columns = overall_columns(iou_thresholds or acc_thresholds(runs))
    sample_results = sample_results or {}
    gallery_links = gallery_links or {}
    last = runs[-1].info
    dataset = last.dataset
    split = last.split
    ranked = ranked_models(entries)
    edit_types = edit_types_of(ranked)
    counts = {name: Counter(r.failure for r in results) for name, results in sample_results.items()}
    title = f"IDG leaderboard: {dataset.name} / {split}"
    sources = ", ".join(f"<code>results/{esc(r.run_id)}</code>" for r in runs)
    parts = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="note">Generated by <code>harness report</code> from {sources}; do not edit by hand. '
        f"Dataset {esc(dataset.name)} (version {esc(dataset.version or '—')}, fingerprint "
        f"<code>{esc(dataset.fingerprint[:16])}</code>), split <code>{esc(split)}</code>, "
        f"{esc(dataset.n_samples)} samples scored, {esc(dataset.invalid_count)} invalid samples skipped. "
        "Scores in percent; small grey brackets are 95% bootstrap confidence intervals (seeded). "
        "Click a column header to sort.</p>",
    ]
    parts += [f'<p class="note">{esc(note)}</p>' for note in notes or []]
    parts += [f'<p class="note">{line}</p>' for line in trained_elsewhere_lines(entries, dataset.fingerprint, _code)]
    parts += ["<h2>Overall</h2>", _overall_table(ranked, gallery_links, columns)]
    if any(e.scored for e in ranked):
        parts.append(f'<p class="note">{SCORED_MARK} {esc(SCORED_NOTE)}.</p>')
    parts += ["<h2>Acc@0.5 by edit type</h2>", _stratum_table(ranked, "edit_type", edit_types, "acc@0.5", "edit-acc")]
    parts += ["<h2>mIoU by edit type</h2>", _stratum_table(ranked, "edit_type", edit_types, "miou", "edit-miou")]
    parts += ["<h2>Acc@0.5 by target size</h2>", _stratum_table(ranked, "size", list(SIZE_BUCKETS), "acc@0.5", "size")]
    parts += ["<h2>Size and speed</h2>", _cost_table(ranked)]
    pixel = pixel_rows(ranked)
    if pixel:
        rows = [
            [Cell.text(name)]
            + [
                number_cell(v) if k == "pairs" else number_cell(None if v is None else 100 * v, "{:.1f}")
                for v, (k, _) in zip(values, PIXEL_COLUMNS, strict=True)
            ]
            for name, values in pixel
        ]
        parts += [
            "<h2>Pixel-level change detection</h2>",
            html_table(["Model"] + [t for _, t in PIXEL_COLUMNS], rows, table_id="pixel-change"),
            '<p class="note">Change class; true/false positives and negatives summed over the pairs of the split '
            "(one count per pair), then precision, recall, F1 and IoU.</p>",
        ]
    if counts:
        parts += ["<h2>Failure taxonomy</h2>", _failure_table(ranked, counts, gallery_links)]
    parts.append(_controls_html(entries))
    if extra_html:
        parts.append(extra_html)
    if ranked:
        parts += ["<h2>Plots</h2>", _plots_html(ranked, edit_types, sample_results, counts)]
    not_run = sorted((e for e in entries if e.status != "done"), key=lambda e: e.name)
    if not_run:
        rows = [
            [Cell.text(e.name), Cell.text(e.status), Cell.text(e.reason or ""), Cell.text(e.how_to_enable or "")]
            for e in not_run
        ]
        parts += [
            "<h2>Models not run</h2>",
            html_table(["Model", "Status", "Why", "How to enable"], rows, table_id="not-run"),
        ]
    return html_document(title, "\n".join(parts))
