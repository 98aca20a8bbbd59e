"""Several splits in one report: the first split named gets the full leaderboard, and a table puts
every model's scores on each split side by side (e.g. `test`, `test-novel`, `test-robust`: does a
model read language or memorise phrasings, and does it survive camera nuisance?)."""

from __future__ import annotations

from harness.errors import HarnessError
from harness.report.html_page import Cell, esc, html_table, metric_cell
from harness.report.leaderboard import format_metric, ranked_models
from harness.report.markdown_text import md_code, md_text
from harness.report.runs import LoadedRun, merge_runs
from harness.run.run_records import ModelEntry

SPLIT_METRICS = (("acc@0.5", "Acc@0.5"), ("miou", "mIoU"))


def group_by_split(runs: list[LoadedRun]) -> tuple[list[LoadedRun], dict[str, list[LoadedRun]]]:
    """The runs of the first split named, and the runs of every other split (in the order named)."""
    if not runs:
        raise HarnessError("no runs to report")
    main_split = runs[0].info.split
    main = [r for r in runs if r.info.split == main_split]
    others: dict[str, list[LoadedRun]] = {}
    for run in runs:
        if run.info.split != main_split:
            others.setdefault(run.info.split, []).append(run)
    fingerprints = {r.info.dataset.fingerprint for r in runs}
    if len(fingerprints) > 1:
        raise HarnessError(
            "runs " + ", ".join(r.run_id for r in runs) + " are on different datasets; report them separately"
        )
    return main, others


def _by_split(main: list[LoadedRun], others: dict[str, list[LoadedRun]]) -> dict[str, dict[str, ModelEntry]]:
    splits = {main[0].info.split: merge_runs(main), **{s: merge_runs(rs) for s, rs in others.items()}}
    # Control runs stay in the first split's controls section; here each model appears once.
    return {
        split: {e.name: e for e in entries if e.done and e.metrics and e.control is None}
        for split, entries in splits.items()
    }


def _n(entries: dict[str, ModelEntry]) -> int:
    return next((e.metrics["overall"]["n"] for e in entries.values()), 0)


def splits_markdown(main: list[LoadedRun], others: dict[str, list[LoadedRun]]) -> list[str]:
    if not others:
        return []
    by_split = _by_split(main, others)
    order = [e.name for e in ranked_models(merge_runs(main))]
    order += sorted({n for entries in by_split.values() for n in entries} - set(order))
    lines: list[str] = []
    for key, title in SPLIT_METRICS:
        header = ["Model"] + [f"{md_text(split)} (n={_n(entries)})" for split, entries in by_split.items()]
        rows = [
            [md_code(name)]
            + [
                format_metric(entries[name].metrics["overall"][key]) if name in entries else "—"
                for entries in by_split.values()
            ]
            for name in order
        ]
        lines += ["", f"## {title} across splits", ""]
        lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += [
        "",
        "- Each split is scored on its own samples, so a column's CIs are those of that split. `—`: the model "
        "was not run on that split. The sections above this one are those of the first split.",
    ]
    return lines


def splits_html(main: list[LoadedRun], others: dict[str, list[LoadedRun]]) -> str:
    if not others:
        return ""
    by_split = _by_split(main, others)
    order = [e.name for e in ranked_models(merge_runs(main))]
    order += sorted({n for entries in by_split.values() for n in entries} - set(order))
    parts = []
    for key, title in SPLIT_METRICS:
        header = ["Model"] + [f"{split} (n={_n(entries)})" for split, entries in by_split.items()]
        rows = [
            [Cell(f"<code>{esc(name)}</code>", numeric=False)]
            + [
                metric_cell(entries[name].metrics["overall"][key]) if name in entries else Cell("—", sort=None)
                for entries in by_split.values()
            ]
            for name in order
        ]
        parts += [
            f"<h2>{esc(title)} across splits</h2>",
            html_table(header, rows, table_id=f"splits-{key.replace('@', '').replace('.', '')}"),
        ]
    return "\n".join(parts)
