"""`harness data synth|validate|stats|import|export`: the dataset sub-commands of the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from harness.data.manifest import TRAIN_SPLIT, read_dataset_info
from harness.data.synth import SynthConfig, SynthReport, generate_dataset
from harness.data.validate import validate_dataset


def generate_with_progress(out: Path, config: SynthConfig, console: Console, overwrite: bool = False) -> SynthReport:
    """Generate DiffGround-Synth into `out` with a rich progress bar."""
    with Progress(
        TextColumn("[bold]DiffGround-Synth"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    ) as progress:
        task = progress.add_task("synth", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return generate_dataset(out, config, progress=on_progress, overwrite=overwrite)


def cmd_synth(args: argparse.Namespace, console: Console) -> int:
    config = SynthConfig(
        seed=args.seed,
        n_train=args.train,
        n_val=args.val,
        n_test=args.test,
        min_size=args.min_size,
        max_size=args.max_size,
        robust=args.robust,
        allow_category_names=args.allow_category_names,
        workers=args.workers,
    )
    report = generate_with_progress(args.out, config, console, overwrite=args.overwrite)
    console.print(
        f"Wrote {args.out}: "
        + ", ".join(
            f"{split} {n} queries / {report.pairs_per_split[split]} pairs"
            for split, n in report.queries_per_split.items()
        )
    )
    console.print(
        f"Ambiguous queries rewritten: {report.rewritten}, dropped: {report.dropped}; "
        f"surplus queries trimmed at split quotas: {report.trimmed}. "
        f"{report.elapsed_s:.1f} s, {report.queries_per_second:.0f} queries/s."
    )
    return 0


def cmd_validate(args: argparse.Namespace, console: Console) -> int:
    splits = set(args.split) if args.split else None
    report = validate_dataset(args.dataset, splits=splits, check_images=not args.no_images)
    for problem in report.problems:
        console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    for warning in report.warnings:
        console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    scope = f" (splits {', '.join(sorted(splits))})" if splits else ""
    if report.ok and not report.samples:
        console.print(f"[red]no samples[/] in {args.dataset}{scope}: nothing to evaluate.", highlight=False)
        return 1
    if report.ok:
        warned = f", {len(report.warnings)} warning(s) above" if report.warnings else ""
        console.print(f"[green]OK[/]: {args.dataset}{scope}: {len(report.samples)} valid samples, no problems{warned}.")
        return 0
    console.print(
        f"[red]{len(report.problems)} problem(s)[/] in {report.invalid_rows} row(s) of {args.dataset}{scope}; "
        f"{len(report.samples)} samples are valid."
    )
    return 1


def cmd_stats(args: argparse.Namespace, console: Console) -> int:
    from harness.data.manifest import read_manifest
    from harness.data.stats import compute_stats, render_stats

    read = read_manifest(args.dataset)
    stats = compute_stats(read.samples, read_dataset_info(args.dataset))
    stats["evaluation_only"] = TRAIN_SPLIT not in stats["counts"]
    if args.json:
        console.print_json(json.dumps(stats))
    else:
        render_stats(stats, console)
        if stats["evaluation_only"]:
            console.print("[yellow]evaluation-only[/]: no 'train' split, so no model can be trained on this dataset.")
    if read.problems:
        console.print(f"[yellow]{len(read.problems)} manifest problem(s) not counted; run `harness data validate`.[/]")
    return 0


def cmd_import(args: argparse.Namespace, console: Console) -> int:
    from harness.data.importers import ImportOptions, import_dataset

    options = ImportOptions(
        link=args.link,
        split=args.split,
        overwrite=args.overwrite,
        name=args.name,
        normalized=args.normalized,
        strict=args.strict,
    )
    report = import_dataset(args.format, args.source, args.out, options)
    for problem in report.problems:
        console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    table = Table(title=f"import {args.format} {args.source} -> {args.out}")
    table.add_column("rows read", justify="right")
    table.add_column("imported", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("images placed", justify="right")
    failed = f"[red]{report.failed}[/]" if report.failed else "0"
    table.add_row(str(report.rows_read), str(report.imported), failed, f"{report.images_placed} ({args.link})")
    console.print(table)
    if report.imported and not report.written:  # --strict and a row failed
        console.print(
            f"[red]--strict[/]: {report.failed} row(s) failed, so nothing was written to {args.out}. "
            "Fix the rows above, or import without --strict to keep the rows that converted.",
            highlight=False,
        )
        return 1
    if report.hardlink_fallbacks:
        console.print(f"{report.hardlink_fallbacks} image(s) copied: hard links cannot cross filesystems.")
    for problem in report.output_problems:
        console.print(f"[red]written dataset has a problem[/]: {problem}", highlight=False)
    if not report.imported:
        console.print(f"[red]Nothing imported[/] from {args.source}; no dataset written. See the problems above.")
        return 1
    splits = read_dataset_info(args.out).get("splits", {})
    console.print(
        f"Wrote {args.out}: "
        + ", ".join(f"{split} {n['queries']} queries / {n['pairs']} pairs" for split, n in splits.items())
        + (" (evaluation-only: no train split)" if TRAIN_SPLIT not in splits else "")
    )
    if report.output_problems or (args.strict and report.failed):
        return 1
    return 0


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from harness.data.coco_export import export_coco

    out = args.out or args.dataset / (f"coco-{args.split}.json" if args.split else "coco.json")
    coco = export_coco(args.dataset, out, split=args.split, skip_invalid=args.skip_invalid)
    console.print(
        f"Wrote {out}: {len(coco['images'])} B images, {len(coco['annotations'])} target boxes, "
        f"categories {', '.join(c['name'] for c in coco['categories'])}."
    )
    return 0


def run_data_command(args: argparse.Namespace, console: Console) -> int:
    commands = {
        "synth": cmd_synth,
        "validate": cmd_validate,
        "stats": cmd_stats,
        "import": cmd_import,
        "export": cmd_export,
    }
    return commands[args.data_command](args, console)
