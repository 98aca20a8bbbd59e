"""What `harness report` writes: leaderboard.md, index.html, failure galleries, comparisons, paper tables."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.files.atomic import write_text_atomic
from harness.report.comparison import ModelComparison, compare_models, comparison_markdown, format_p
from harness.report.failure_taxonomy import FAILURE_CLASSES, FAILURE_DESCRIPTIONS, HIT
from harness.report.gallery import GalleryEntry, Thumbnailer, write_gallery
from harness.report.html_leaderboard import render_html_leaderboard
from harness.report.html_page import Cell, esc, html_table, number_cell
from harness.report.leaderboard import write_leaderboard
from harness.report.other_splits import group_by_split, splits_html, splits_markdown
from harness.report.per_sample import ChangedPixels, RunDataset, SampleResult, model_sample_results
from harness.report.runs import LoadedRun, merge_runs
from harness.run.run_folder import model_dir_name

INDEX_HTML = "index.html"
GALLERIES = "galleries"
COMPARISONS = "comparisons"

Log = Callable[[str], None]


@dataclass
class ReportFiles:
    leaderboard_md: Path
    index_html: Path
    galleries: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def load_sample_results(runs: list[LoadedRun], models: list[str] | None = None) -> tuple[RunDataset, dict]:
    """The dataset of the runs and {model: [SampleResult]} for every done model (or those named)."""
    dataset = RunDataset.for_run(runs[-1])
    changed = ChangedPixels(dataset)
    by_id = {r.run_id: r for r in runs}
    results: dict[str, list[SampleResult]] = {}
    for entry in merge_runs(runs):
        if entry.status != "done" or (models is not None and entry.name not in models):
            continue
        results[entry.name] = model_sample_results(by_id[entry.run_id], entry.name, dataset, changed)
    return dataset, results


def _describe(result: SampleResult) -> list[str]:
    lines = [f"IoU {result.iou:.2f} · {result.failure} · {result.edit_type} · {result.size}"]
    if result.error:
        lines.append(f"error: {result.error}")
    return lines


def failure_gallery_sections(results: list[SampleResult]) -> dict[str, list[GalleryEntry]]:
    """The misses of one model, grouped by failure class (classes with no sample left out)."""
    sections: dict[str, list[GalleryEntry]] = {c: [] for c in FAILURE_CLASSES}
    for r in results:
        if r.failure == HIT:
            continue
        sections[r.failure].append(
            GalleryEntry(
                id=r.id,
                image_a=r.image_a,
                image_b=r.image_b,
                target=r.target,
                others=r.others,
                predictions=[r.top1],
                query=r.query,
                lines=_describe(r),
                replies=[("the model", r.reply)] if r.reply is not None else [],
            )
        )
    return {c: entries for c, entries in sections.items() if entries}


def write_report(
    runs: list[LoadedRun],
    out_dir: Path,
    galleries: bool = True,
    log: Log | None = None,
    iou_thresholds: Sequence[float] | None = None,
) -> ReportFiles:
    """Write the leaderboards and, when the runs' dataset is at hand, plots and failure galleries. The
    overall tables show Acc@τ at `iou_thresholds` (default: those the runs were scored at; metrics
    at other thresholds come from rescore_runs in harness/report/rescored_metrics.py)."""
    log = log or (lambda message: None)
    out_dir = Path(out_dir)
    runs, other_splits = group_by_split(runs)
    started = time.perf_counter()
    notes: list[str] = []
    sample_results: dict[str, list[SampleResult]] = {}
    dataset = None
    try:
        dataset, sample_results = load_sample_results(runs)
    except HarnessError as exc:
        notes.append(f"Per-sample plots, failure classes and galleries left out: {exc}")
        log(notes[-1])
    seconds = {"per-sample results": time.perf_counter() - started}

    gallery_links: dict[str, str] = {}
    gallery_index: dict[str, Path] = {}
    if galleries and dataset is not None:
        thumbnailer = Thumbnailer(dataset.root)  # one for all galleries: each decodes the same pairs
        for name, results in sample_results.items():
            t0 = time.perf_counter()
            folder = out_dir / GALLERIES / model_dir_name(name)
            counts = Counter(r.failure for r in results)
            intro = (
                f'<p class="note">Every miss of <code>{esc(name)}</code> (top-1 IoU &lt; 0.5), by failure class; '
                f"{counts.get(HIT, 0)} of {len(results)} samples are hits.</p>"
            )
            gallery_index[name] = write_gallery(
                folder,
                f"Failures of {name}",
                intro,
                failure_gallery_sections(results),
                dataset.root,
                prediction_labels=[f"{name} (top-1)"],
                descriptions=FAILURE_DESCRIPTIONS,
                thumbnailer=thumbnailer,
            )
            gallery_links[name] = f"{GALLERIES}/{model_dir_name(name)}/{INDEX_HTML}"
            seconds[f"gallery {name}"] = time.perf_counter() - t0
            log(f"Gallery of {name}: {gallery_index[name]} ({seconds[f'gallery {name}']:.1f} s)")

    t0 = time.perf_counter()
    failure_counts = {name: dict(Counter(r.failure for r in results)) for name, results in sample_results.items()}
    md = write_leaderboard(runs, out_dir, failure_counts or None, splits_markdown(runs, other_splits), iou_thresholds)
    index = out_dir / INDEX_HTML
    html = render_html_leaderboard(
        runs, sample_results, gallery_links, notes, splits_html(runs, other_splits), iou_thresholds
    )
    write_text_atomic(index, html)
    seconds["leaderboard pages"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    return ReportFiles(md, index, gallery_index, seconds, notes)


def _comparison_html(comparison: ModelComparison) -> str:
    a, b = comparison.model_a, comparison.model_b
    rows = [
        [
            Cell.text(row.stratum),
            number_cell(row.n),
            number_cell(100 * row.acc_a, "{:.1f}"),
            number_cell(100 * row.acc_b, "{:.1f}"),
            Cell(
                f'{100 * row.diff:+.1f} <span class="ci">[{100 * row.ci[0]:+.1f}, {100 * row.ci[1]:+.1f}]</span>',
                sort=100 * row.diff,
            ),
            number_cell(row.a_only),
            number_cell(row.b_only),
            Cell(esc(format_p(row.p_value)), sort=row.p_value),
        ]
        for row in comparison.rows
    ]
    header = ["Stratum", "N", f"{a} Acc@0.5", f"{b} Acc@0.5", "Δ [95% CI]", f"{a} only", f"{b} only", "McNemar p"]
    return (
        f'<p class="note">Acc@0.5 in percent on the samples both were scored on; Δ = {esc(a)} − {esc(b)} with a 95% '
        "paired bootstrap CI; McNemar's exact test on the discordant samples. The sections below show every "
        "sample where exactly one of the two is a hit.</p>" + html_table(header, rows, table_id="comparison")
    )


def write_comparison(runs: list[LoadedRun], out_dir: Path, model_a: str, model_b: str) -> tuple[Path, Path, str]:
    """comparisons/A-vs-B.md and a gallery of the disagreements (its index holds the HTML table)."""
    names = {e.name for e in merge_runs(runs) if e.done}
    for model in (model_a, model_b):
        if model not in names:
            raise HarnessError(f"model {model!r} has no finished run among these runs; models here: {sorted(names)}")
    dataset, results = load_sample_results(runs, [model_a, model_b])
    comparison = compare_models(model_a, results[model_a], model_b, results[model_b])
    slug = f"{model_dir_name(model_a)}-vs-{model_dir_name(model_b)}"
    gallery_folder = Path(out_dir) / GALLERIES / f"compare-{slug}"
    sections: dict[str, list[GalleryEntry]] = {f"{model_a} only": [], f"{model_b} only": []}
    for ra, rb in comparison.disagreements:
        entry = GalleryEntry(
            id=ra.id,
            image_a=ra.image_a,
            image_b=ra.image_b,
            target=ra.target,
            others=ra.others,
            predictions=[ra.top1, rb.top1],
            query=ra.query,
            lines=[
                f"{model_a}: IoU {ra.iou:.2f} ({ra.failure})",
                f"{model_b}: IoU {rb.iou:.2f} ({rb.failure})",
                f"{ra.edit_type} · {ra.size}",
            ],
            replies=[(m, r.reply) for m, r in ((model_a, ra), (model_b, rb)) if r.reply is not None],
        )
        sections[f"{model_a} only" if ra.iou >= rb.iou else f"{model_b} only"].append(entry)
    gallery = write_gallery(
        gallery_folder,
        f"{model_a} vs {model_b}",
        _comparison_html(comparison),
        sections,
        dataset.root,
        prediction_labels=[model_a, model_b],
        descriptions={
            f"{model_a} only": f"{model_a} hit (IoU ≥ 0.5), {model_b} missed",
            f"{model_b} only": f"{model_b} hit (IoU ≥ 0.5), {model_a} missed",
        },
    )
    link = f"{GALLERIES}/compare-{slug}/{INDEX_HTML}"
    markdown = comparison_markdown(comparison, gallery_link=f"../{link}")
    md_path = Path(out_dir) / COMPARISONS / f"{slug}.md"
    write_text_atomic(md_path, markdown)
    return md_path, gallery, markdown
