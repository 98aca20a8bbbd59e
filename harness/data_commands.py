"""`harness data synth|validate|stats`: the dataset sub-commands of the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from harness.data.manifest import read_dataset_info
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
        console.print(str(problem), markup=False, highlight=False)
    scope = f" (splits {', '.join(sorted(splits))})" if splits else ""
    if report.ok:
        console.print(f"[green]OK[/]: {args.dataset}{scope}: {len(report.samples)} valid samples, no problems.")
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
    if args.json:
        console.print_json(json.dumps(stats))
    else:
        render_stats(stats, console)
    if read.problems:
        console.print(f"[yellow]{len(read.problems)} manifest problem(s) not counted; run `harness data validate`.[/]")
    return 0


def run_data_command(args: argparse.Namespace, console: Console) -> int:
    commands = {"synth": cmd_synth, "validate": cmd_validate, "stats": cmd_stats}
    return commands[args.data_command](args, console)
