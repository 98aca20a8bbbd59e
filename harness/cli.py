"""The `harness` command line: models, data synth|validate|stats|import|export, run, report, train."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness import __version__
from harness.errors import HarnessError

DEFAULT_DATASET = Path("data/diffground-synth")
DEFAULT_RESULTS = Path("results")
DEFAULT_LEADERBOARDS = Path("leaderboards")

console = Console()
err_console = Console(stderr=True)


def _add_adapter_option_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="MODEL.KEY=VALUE",
        help="adapter option, repeatable (e.g. --opt pixel-diff.min_area=50)",
    )
    parser.add_argument("--model-config", type=Path, help="YAML file mapping model names to their options")


def _add_import_export_parsers(data_commands: argparse._SubParsersAction) -> None:
    from harness.data.importers import IMPORTERS, LINK_MODES

    imp = data_commands.add_parser(
        "import",
        help="convert MIG-Bench, COCO-style or CSV annotations into a DiffGround dataset",
        description="Convert a public annotation format into a DiffGround dataset folder. Every source row that "
        "cannot be converted is listed with its location and reason.",
    )
    imp.add_argument("format", choices=sorted(IMPORTERS), help="source format")
    imp.add_argument("source", type=Path, help="the source file (JSON or CSV); image paths are relative to its folder")
    imp.add_argument("--out", type=Path, required=True, help="output dataset folder")
    imp.add_argument("--link", choices=LINK_MODES, default="copy", help="how images are placed (default copy)")
    imp.add_argument("--split", default="test", help="split of rows whose source names none (default test)")
    imp.add_argument("--name", help="dataset name in dataset.json (default: the output folder's name)")
    imp.add_argument("--normalized", action="store_true", help="csv: x1..y2 are fractions 0-1 of B's size")
    imp.add_argument("--strict", action="store_true", help="exit 1 if any row failed (default: only if none imported)")
    imp.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    exp = data_commands.add_parser("export", help="write a dataset's targets in another format (coco)")
    exp.add_argument("format", choices=["coco"], help="output format: COCO detection JSON of the B images")
    exp.add_argument("dataset", type=Path)
    exp.add_argument("--split", help="only this split (default: all)")
    exp.add_argument("--out", type=Path, help="output file (default DATASET/coco[-SPLIT].json)")
    exp.add_argument("--skip-invalid", action="store_true", help="export the valid samples of a dataset with problems")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="idg-harness: evaluate Image Difference Grounding models on DiffGround-format data.",
    )
    parser.add_argument("--version", action="version", version=f"idg-harness {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    models = commands.add_parser("models", help="list registered adapters and whether each can run here")
    _add_adapter_option_args(models)

    data = commands.add_parser("data", help="generate, validate and describe datasets")
    data_commands = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    synth = data_commands.add_parser("synth", help="generate the DiffGround-Synth benchmark")
    synth.add_argument("--out", type=Path, default=DEFAULT_DATASET, help=f"output folder (default {DEFAULT_DATASET})")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--train", type=int, default=4000, help="queries in the train split")
    synth.add_argument("--val", type=int, default=500, help="queries in the val split")
    synth.add_argument("--test", type=int, default=1000, help="queries in the test split")
    synth.add_argument("--min-size", type=int, default=256, help="smallest image side in px")
    synth.add_argument("--max-size", type=int, default=512, help="largest image side in px")
    synth.add_argument("--robust", action="store_true", help="misregister, jitter and JPEG-compress image B")
    synth.add_argument("--allow-category-names", action="store_true", help="let queries name the object's shape")
    synth.add_argument("--workers", type=int, default=1, help="processes (output is identical for any number)")
    synth.add_argument("--overwrite", action="store_true", help="replace an existing dataset in --out")
    validate = data_commands.add_parser("validate", help="report every problem in a dataset folder")
    validate.add_argument("dataset", type=Path)
    validate.add_argument("--split", action="append", help="only check these splits (repeatable)")
    validate.add_argument("--no-images", action="store_true", help="check the manifest only, not image files")
    stats = data_commands.add_parser("stats", help="counts per split x edit type, query lengths, box sizes")
    stats.add_argument("dataset", type=Path, nargs="?", default=DEFAULT_DATASET)
    stats.add_argument("--json", action="store_true", help="print the statistics as JSON")
    _add_import_export_parsers(data_commands)

    run = commands.add_parser("run", help="evaluate models on a split and write results/<run-id>/")
    run.add_argument("--models", required=True, help="comma-separated adapter names, or 'all'")
    run.add_argument("--split", default="test")
    run.add_argument(
        "--dataset",
        type=Path,
        help=f"dataset folder (default {DEFAULT_DATASET}, generated on first use)",
    )
    run.add_argument("--limit", type=int, help="only the first N samples of the split (smoke runs)")
    run.add_argument("--batch-size", type=int, default=8)
    run.add_argument("--output-dir", type=Path, default=DEFAULT_RESULTS, help="where run folders go")
    run.add_argument("--run-id", help="name of the run folder (default: UTC time + split)")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    run.add_argument(
        "--loader-workers",
        type=int,
        default=2,
        help="processes decoding images ahead of the model (0: decode in the main process)",
    )
    run.add_argument("--skip-invalid", action="store_true", help="evaluate valid samples of a dataset with problems")
    run.add_argument(
        "--control",
        default="",
        metavar="KIND[,KIND...]|all",
        help="also run each model under controls: query-shuffle, a-blind, swap (see README)",
    )
    run.add_argument(
        "--strata",
        default="",
        metavar="ATTR[,ATTR...]",
        help="also report metrics per value of these manifest attributes (e.g. template_family)",
    )
    run.add_argument("--no-cache", action="store_true", help="recompute every prediction (cache is still written)")
    run.add_argument(
        "--force",
        action="store_true",
        help="reuse a --run-id whose folder holds a run of another dataset or split (its files are deleted)",
    )
    _add_adapter_option_args(run)

    report = commands.add_parser(
        "report", help="write leaderboards/ (markdown, HTML, galleries, tables) from runs, or compare two models"
    )
    report.add_argument("runs", type=Path, nargs="*", help="run folders (default: the latest complete run)")
    report.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    report.add_argument("--out", type=Path, default=DEFAULT_LEADERBOARDS)
    report.add_argument(
        "--compare",
        nargs=2,
        metavar=("M1", "M2"),
        help="only compare two models: paired bootstrap CI of the accuracy difference, McNemar, disagreement gallery",
    )
    report.add_argument(
        "--table",
        action="append",
        metavar="NAME",
        help="only render the paper table OUT/tables/NAME.yaml to .md and .tex (repeatable)",
    )
    report.add_argument("--no-galleries", action="store_true", help="skip the per-model failure galleries")

    from harness.training.train_command import add_train_parser

    add_train_parser(commands, DEFAULT_DATASET)
    return parser


def cmd_models(args: argparse.Namespace) -> int:
    from adapters.base import AdapterUnavailable
    from adapters.registry import adapter_origin, available_names, get_adapter_class, plugin_failures
    from harness.adapter_options import load_adapter_options

    options = load_adapter_options(args.model_config, args.opt)
    stray = sorted(set(options) - set(available_names()))
    if stray:
        raise HarnessError(f"--opt/--model-config: no registered model named {', '.join(stray)}; see `harness models`")
    table = Table(title="Registered adapters")
    table.add_column("Model", no_wrap=True)
    for column in ("Runs here", "Uses query", "Uses A", "Why not / how to enable", "Defined in"):
        table.add_column(column, overflow="fold")
    for name in available_names():
        cls = get_adapter_class(name)
        status, detail = "[green]yes[/]", cls.description
        try:
            cls(**options.get(name, {})).check()
        except AdapterUnavailable as exc:
            status, detail = "[red]no[/]", f"{exc.reason}. To enable: {exc.how_to_enable}"
        except Exception as exc:  # a plugin's bug is shown, not raised
            status, detail = "[red]no[/]", f"{type(exc).__name__}: {exc}"
        yes_no = {True: "yes", False: "no"}
        table.add_row(name, status, yes_no[cls.uses_query], yes_no[cls.uses_image_a], detail, adapter_origin(name))
    console.print(table)
    for failure in plugin_failures():
        console.print(f"[red]plugin failed to load[/]: {failure.entry_point}: {failure.error}")
    return 0


def _ensure_default_dataset() -> None:
    if (DEFAULT_DATASET / "manifest.jsonl").is_file():
        return
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise HarnessError(
            f"no dataset at {DEFAULT_DATASET}: generate it before a sharded run (`harness data synth`) "
            "so the ranks do not all write it at once"
        )
    err_console.print(f"No dataset at {DEFAULT_DATASET}: generating the bundled DiffGround-Synth (seed 0) ...")
    from harness.data.synth import SynthConfig
    from harness.data_commands import generate_with_progress

    # The output does not depend on the number of workers, so use what the machine has.
    config = SynthConfig(workers=min(4, os.cpu_count() or 1))
    report = generate_with_progress(DEFAULT_DATASET, config, err_console)
    err_console.print(f"Generated {report.total_queries} queries in {report.elapsed_s:.1f} s.")


def _controls(text: str) -> list[str]:
    from harness.controls import UnknownControl, parse_controls

    try:
        return parse_controls(text)
    except UnknownControl as exc:
        raise HarnessError(f"--control: {exc}") from None


def cmd_run(args: argparse.Namespace) -> int:
    from harness.adapter_options import load_adapter_options
    from harness.runner import RunConfig, run_evaluation

    if args.batch_size < 1:
        raise HarnessError("--batch-size must be at least 1")
    if args.limit is not None and args.limit < 1:
        raise HarnessError("--limit must be at least 1")
    from harness.interrupts import exit_code_of, sigterm_as_interrupt
    from harness.output_paths import check_output_folder
    from harness.run_folder import check_run_id

    check_output_folder(args.output_dir, "--output-dir")
    if args.run_id is not None:
        check_run_id(args.run_id)
    if args.dataset is None:
        _ensure_default_dataset()
    config = RunConfig(
        models=[m.strip() for m in args.models.split(",") if m.strip()],
        split=args.split,
        dataset=args.dataset or DEFAULT_DATASET,
        output_dir=args.output_dir,
        limit=args.limit,
        batch_size=args.batch_size,
        device=args.device,
        skip_invalid=args.skip_invalid,
        use_cache=not args.no_cache,
        run_id=args.run_id,
        adapter_options=load_adapter_options(args.model_config, args.opt),
        extra_strata=[a.strip() for a in args.strata.split(",") if a.strip()],
        loader_workers=max(0, args.loader_workers),
        controls=_controls(args.control),
        force=args.force,
        argv=sys.argv[1:],
    )
    try:
        with sigterm_as_interrupt():
            result = run_evaluation(config, err_console)
    except KeyboardInterrupt as exc:
        err_console.print(
            f"[yellow]Interrupted ({exc or 'Ctrl-C'}).[/] Finished batches are cached; rerun the same command "
            "to resume (nothing already computed is recomputed)."
        )
        return exit_code_of(exc)
    if not result.run_info:  # a non-zero rank of a sharded run: rank 0 reports
        return 0
    table = Table(
        title=f"Run {result.run_info['run_id']} ({config.split}, {result.run_info['dataset']['n_samples']} samples)"
    )
    table.add_column("Model", no_wrap=True)
    for column in ("Status", "Acc@0.5", "mIoU", "Errors", "Computed / cached", "Note"):
        table.add_column(column, overflow="fold")
    from harness.report.leaderboard import format_metric

    for m in result.models:
        if m.status == "done":
            o = m.metrics["overall"]
            table.add_row(
                m.name,
                "[green]done[/]",
                format_metric(o["acc@0.5"]),
                format_metric(o["miou"]),
                str(m.info["errors"]),
                f"{m.info['computed']} / {m.info['cached']}",
                "",
            )
        else:
            note = m.reason + (f". To enable: {m.how_to_enable}" if m.how_to_enable else "")
            table.add_row(m.name, f"[yellow]{m.status}[/]", "—", "—", "—", "—", note)
    console.print(table)
    invalid = result.run_info["dataset"]["invalid"]["count"]
    if invalid:
        console.print(f"[yellow]{invalid} invalid sample row(s) skipped[/] (listed in run.json).")
    console.print(f"Results: {result.run_dir}")
    return 0 if any(m.status == "done" for m in result.models) else 1


def cmd_report(args: argparse.Namespace) -> int:
    from harness.output_paths import check_output_folder
    from harness.report.build_report import write_comparison, write_report
    from harness.report.paper_tables import write_tables
    from harness.report.runs import latest_complete_run, load_run, merge_runs

    check_output_folder(args.out, "--out")
    run_dirs = args.runs or [latest_complete_run(args.results_dir)]
    runs = [load_run(d) for d in run_dirs]
    tables_dir = Path(args.out) / "tables"
    if args.compare:
        md_path, gallery, markdown = write_comparison(runs, args.out, *args.compare)
        console.print(markdown, markup=False, highlight=False, soft_wrap=True)
        console.print(f"Comparison written to [bold]{md_path}[/], disagreement gallery [bold]{gallery}[/]")
    if args.table:
        for table in write_tables(tables_dir, merge_runs(runs), args.table):
            console.print(table.markdown, markup=False, highlight=False, soft_wrap=True)
            console.print(f"Table written to [bold]{tables_dir / table.name}.md[/] and [bold].tex[/]")
    if args.compare or args.table:
        return 0
    files = write_report(runs, args.out, galleries=not args.no_galleries, log=err_console.print)
    tables = write_tables(tables_dir, merge_runs(runs)) if tables_dir.is_dir() else []
    console.print(files.leaderboard_md.read_text(encoding="utf-8"), markup=False, highlight=False, soft_wrap=True)
    console.print(f"Leaderboard written to [bold]{files.leaderboard_md}[/] and [bold]{files.index_html}[/]")
    if files.galleries:
        console.print(f"Failure galleries: {len(files.galleries)} under [bold]{Path(args.out) / 'galleries'}[/]")
    if tables:
        console.print(f"Paper tables: {', '.join(t.name for t in tables)} under [bold]{tables_dir}[/]")
    console.print(f"Report took {files.seconds['total']:.1f} s.")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from harness.output_paths import check_output_folder
    from harness.training.train_command import run_train

    if args.output is not None:
        check_output_folder(args.output, "--output")
    if args.dataset is None:
        _ensure_default_dataset()
    return run_train(args, args.dataset or DEFAULT_DATASET, console)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "models":
            return cmd_models(args)
        if args.command == "data":
            from harness.data_commands import run_data_command
            from harness.output_paths import check_output_folder

            if args.data_command in ("synth", "import"):
                check_output_folder(args.out, "--out")

            return run_data_command(args, console)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "train":
            return cmd_train(args)
    except HarnessError as exc:  # includes DatasetInvalid: one clear message, no traceback
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
    raise AssertionError(f"unhandled command {args.command}")
