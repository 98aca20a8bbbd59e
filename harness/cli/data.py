"""`harness data synth|validate|stats|import|export`: generate, check, describe and convert datasets."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from harness.cli import consoles_and_defaults as defaults
from harness.cli.consoles_and_defaults import DEFAULT_DATASET, HelpFormatter, console
from harness.data.manifest import TRAIN_SPLIT, read_dataset_info
from harness.data.synth import SynthConfig, SynthReport, generate_dataset
from harness.data.validate import validate_dataset
from harness.errors import HarnessError


def generate_with_progress(out: Path, config: SynthConfig, console: Console, overwrite: bool = False) -> SynthReport:
    """Generate DiffGround-Synth into `out` with a rich progress bar."""
    with Progress(
        TextColumn("[bold]DiffGround-Synth"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
    ) as progress:
        task = progress.add_task("synth", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return generate_dataset(out, config, progress=on_progress, overwrite=overwrite)


def cmd_synth(args: argparse.Namespace) -> int:
    try:
        config = _synth_config(args)
    except ValueError as exc:
        raise HarnessError(f"harness data synth: {exc}") from None
    return _generate(args, config)


def _synth_config(args: argparse.Namespace) -> SynthConfig:
    return SynthConfig(
        seed=args.seed,
        n_train=args.train,
        n_val=args.val,
        n_test=args.test,
        min_size=args.min_size,
        max_size=args.max_size,
        robust=args.robust,
        allow_category_names=args.allow_category_names,
        workers=args.workers,
        version=args.version,
        n_test_novel=args.test_novel,
        n_test_robust=args.test_robust,
        robust_train_fraction=args.robust_train_fraction,
        train_paraphrases=args.train_paraphrases,
    )


def _generate(args: argparse.Namespace, config: SynthConfig) -> int:
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


def cmd_validate(args: argparse.Namespace) -> int:
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


def cmd_stats(args: argparse.Namespace) -> int:
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


def cmd_import(args: argparse.Namespace) -> int:
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
    table.add_column("skipped", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("images placed", justify="right")
    failed = f"[red]{report.failed}[/]" if report.failed else "0"
    placed = f"{report.images_placed} ({args.link})"
    table.add_row(str(report.rows_read), str(report.imported), str(report.skipped_total), failed, placed)
    console.print(table)
    for line in report.skipped_lines():  # left out by design: not failures
        console.print(line, markup=False, highlight=False, soft_wrap=True)
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


def cmd_export(args: argparse.Namespace) -> int:
    from harness.data.coco_export import export_coco

    out = args.out or args.dataset / (f"coco-{args.split}.json" if args.split else "coco.json")
    coco = export_coco(args.dataset, out, split=args.split, skip_invalid=args.skip_invalid)
    console.print(
        f"Wrote {out}: {len(coco['images'])} B images, {len(coco['annotations'])} target boxes, "
        f"categories {', '.join(c['name'] for c in coco['categories'])}."
    )
    return 0


def ensure_default_dataset() -> None:
    """Generate the bundled DiffGround-Synth at defaults.DEFAULT_DATASET when it is not there yet."""
    if (defaults.DEFAULT_DATASET / "manifest.jsonl").is_file():
        return
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise HarnessError(
            f"no dataset at {defaults.DEFAULT_DATASET}: generate it before a sharded run (`harness data synth`) "
            "so the ranks do not all write it at once"
        )
    defaults.err_console.print(
        f"No dataset at {defaults.DEFAULT_DATASET}: generating the bundled DiffGround-Synth (seed 0) ..."
    )
    from harness.data import synth

    # The output does not depend on the number of workers, so use what the machine has.
    config = synth.SynthConfig(workers=min(4, os.cpu_count() or 1))
    report = generate_with_progress(defaults.DEFAULT_DATASET, config, defaults.err_console)
    defaults.err_console.print(f"Generated {report.total_queries} queries in {report.elapsed_s:.1f} s.")


EXAMPLES = """examples:
  harness data synth --out data/diffground-synth --workers 2
  harness data validate data/diffground-synth --split test
  harness data stats data/diffground-synth --json
  harness data import mig-bench MIG_data.json --out data/mig-bench
  harness data import csv pairs.csv --out data/mine --normalized
  harness data export coco data/diffground-synth --split test
"""


def _checked_out(func):
    """The command, after checking that its --out can become a folder."""

    def run(args: argparse.Namespace) -> int:
        from harness.files.output_paths import check_output_folder

        check_output_folder(args.out, "--out")
        return func(args)

    return run


def register(commands: argparse._SubParsersAction) -> None:
    from harness.data.importers import IMPORTERS, LINK_MODES

    data = commands.add_parser(
        "data",
        help="generate, validate and describe datasets",
        description="Generate DiffGround-Synth, validate a dataset folder, describe it, or convert other formats.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    data_commands = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)

    synth = data_commands.add_parser(
        "synth", help="generate the DiffGround-Synth benchmark", epilog=EXAMPLES, formatter_class=HelpFormatter
    )
    synth.set_defaults(func=_checked_out(cmd_synth))
    where = synth.add_argument_group("output")
    where.add_argument("--out", type=Path, default=DEFAULT_DATASET, help=f"output folder (default {DEFAULT_DATASET})")
    where.add_argument("--overwrite", action="store_true", help="replace an existing dataset in --out")
    where.add_argument("--workers", type=int, default=1, help="processes (output is identical for any number)")
    sizes = synth.add_argument_group("splits and images")
    sizes.add_argument("--seed", type=int, default=0)
    sizes.add_argument("--train", type=int, default=4000, help="queries in the train split")
    sizes.add_argument("--val", type=int, default=500, help="queries in the val split")
    sizes.add_argument("--test", type=int, default=1000, help="queries in the test split")
    sizes.add_argument(
        "--test-novel", type=int, default=500, help="queries in test-novel: phrasings held out of train/val (v2)"
    )
    sizes.add_argument(
        "--test-robust", type=int, default=500, help="queries in test-robust: B with camera nuisance (v2)"
    )
    sizes.add_argument("--min-size", type=int, default=256, help="smallest image side in px")
    sizes.add_argument("--max-size", type=int, default=512, help="largest image side in px")
    variants = synth.add_argument_group("variants")
    variants.add_argument(
        "--version",
        type=int,
        choices=(1, 2),
        default=2,
        help="generator version: 2 (varied language, test-novel, test-robust) or 1 (the 1.0.0 files, byte for byte)",
    )
    variants.add_argument(
        "--robust-train-fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="share of train pairs rendered with test-robust's nuisance (v2; default 0)",
    )
    variants.add_argument(
        "--train-paraphrases",
        type=int,
        default=0,
        metavar="K",
        help="record K other wordings of each train query's meaning, for training on paraphrases (v2; default 0)",
    )
    variants.add_argument("--robust", action="store_true", help="misregister, jitter and JPEG-compress image B")
    variants.add_argument("--allow-category-names", action="store_true", help="let queries name the object's shape")

    validate = data_commands.add_parser("validate", help="report every problem in a dataset folder")
    validate.set_defaults(func=cmd_validate)
    validate.add_argument("dataset", type=Path)
    validate.add_argument("--split", action="append", help="only check these splits (repeatable)")
    validate.add_argument("--no-images", action="store_true", help="check the manifest only, not image files")

    stats = data_commands.add_parser("stats", help="counts per split x edit type, query lengths, box sizes")
    stats.set_defaults(func=cmd_stats)
    stats.add_argument("dataset", type=Path, nargs="?", default=DEFAULT_DATASET)
    stats.add_argument("--json", action="store_true", help="print the statistics as JSON")

    imp = data_commands.add_parser(
        "import",
        help="convert MIG-Bench, COCO-style or CSV annotations into a DiffGround dataset",
        description="Convert a public annotation format into a DiffGround dataset folder. Every source row that "
        "cannot be converted is listed with its location and reason.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    imp.set_defaults(func=_checked_out(cmd_import))
    imp.add_argument("format", choices=sorted(IMPORTERS), help="source format")
    imp.add_argument("source", type=Path, help="the source file (JSON or CSV); image paths are relative to its folder")
    out = imp.add_argument_group("output")
    out.add_argument("--out", type=Path, required=True, help="output dataset folder")
    out.add_argument("--link", choices=LINK_MODES, default="copy", help="how images are placed (default copy)")
    out.add_argument("--name", help="dataset name in dataset.json (default: the output folder's name)")
    out.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    rows = imp.add_argument_group("rows")
    rows.add_argument("--split", default="test", help="split of rows whose source names none (default test)")
    rows.add_argument("--normalized", action="store_true", help="csv: x1..y2 are fractions 0-1 of B's size")
    rows.add_argument("--strict", action="store_true", help="exit 1 and write nothing if any row failed")

    exp = data_commands.add_parser("export", help="write a dataset's targets in another format (coco)")
    exp.set_defaults(func=cmd_export)
    exp.add_argument("format", choices=["coco"], help="output format: COCO detection JSON of the B images")
    exp.add_argument("dataset", type=Path)
    exp.add_argument("--split", help="only this split (default: all)")
    exp.add_argument("--out", type=Path, help="output file (default DATASET/coco[-SPLIT].json)")
    exp.add_argument("--skip-invalid", action="store_true", help="export the valid samples of a dataset with problems")
