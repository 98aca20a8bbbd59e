"""`harness report`: leaderboards, galleries and paper tables from run folders, or a paired comparison."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.consoles_and_defaults import DEFAULT_LEADERBOARDS, DEFAULT_RESULTS, HelpFormatter, console, err_console

EXAMPLES = """examples:
  harness report                                 the latest complete run under results/
  harness report results/RUN_A results/RUN_B     several runs merged into one leaderboard
  harness report results/T results/N results/R   splits side by side (the first one in full)
  harness report --compare difftracker difftracker-nodem
  harness report --table main                    leaderboards/tables/main.yaml -> main.md + main.tex
  harness report --iou-thresholds 0.3,0.5,0.7    Acc@0.3/0.5/0.7 (MIG-Bench's), scored again where missing
"""


def cmd_report(args: argparse.Namespace) -> int:
    from harness.files.output_paths import check_output_folder
    from harness.metrics import parse_iou_thresholds
    from harness.report.build_report import write_comparison, write_report
    from harness.report.other_splits import group_by_split
    from harness.report.paper_tables import write_tables
    from harness.report.rescored_metrics import rescore_runs
    from harness.report.runs import latest_complete_run, load_run, merge_runs

    check_output_folder(args.out, "--out")
    thresholds = parse_iou_thresholds(args.iou_thresholds) if args.iou_thresholds is not None else None
    run_dirs = args.runs or [latest_complete_run(args.results_dir)]
    runs = [load_run(d) for d in run_dirs]
    if thresholds is not None:
        rescored = rescore_runs(runs, thresholds)
        if rescored:
            err_console.print(
                f"Scored {len(rescored)} model(s) again at IoU {args.iou_thresholds} (run folders unchanged).",
                highlight=False,
            )
    main_runs, _ = group_by_split(runs)  # tables and comparisons are of the first split named
    tables_dir = Path(args.out) / "tables"
    if args.compare:
        md_path, gallery, markdown = write_comparison(main_runs, args.out, *args.compare)
        console.print(markdown, markup=False, highlight=False, soft_wrap=True)
        console.print(f"Comparison written to [bold]{md_path}[/], disagreement gallery [bold]{gallery}[/]")
    if args.table:
        for table in write_tables(tables_dir, merge_runs(main_runs), args.table):
            console.print(table.markdown, markup=False, highlight=False, soft_wrap=True)
            console.print(f"Table written to [bold]{tables_dir / table.name}.md[/] and [bold].tex[/]")
    if args.compare or args.table:
        return 0
    files = write_report(
        runs, args.out, galleries=not args.no_galleries, log=err_console.print, iou_thresholds=thresholds
    )
    tables = write_tables(tables_dir, merge_runs(main_runs)) if tables_dir.is_dir() else []
    console.print(files.leaderboard_md.read_text(encoding="utf-8"), markup=False, highlight=False, soft_wrap=True)
    console.print(f"Leaderboard written to [bold]{files.leaderboard_md}[/] and [bold]{files.index_html}[/]")
    if files.galleries:
        console.print(f"Failure galleries: {len(files.galleries)} under [bold]{Path(args.out) / 'galleries'}[/]")
    if tables:
        console.print(f"Paper tables: {', '.join(t.name for t in tables)} under [bold]{tables_dir}[/]")
    console.print(f"Report took {files.seconds['total']:.1f} s.")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="write leaderboards/ (markdown, HTML, galleries, tables) from runs, or compare two models",
        description="Write the leaderboard (markdown + self-contained HTML), failure galleries and paper tables "
        "from one or more run folders; or compare two models with paired statistics.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    report.set_defaults(func=cmd_report)
    report.add_argument("runs", type=Path, nargs="*", help="run folders (default: the latest complete run)")
    where = report.add_argument_group("where")
    where.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS, help="where to look for the latest run")
    where.add_argument("--out", type=Path, default=DEFAULT_LEADERBOARDS, help="output folder")
    what = report.add_argument_group("what (default: the whole report)")
    what.add_argument(
        "--compare",
        nargs=2,
        metavar=("M1", "M2"),
        help="only compare two models: paired bootstrap CI of the accuracy difference, McNemar, disagreement gallery",
    )
    what.add_argument(
        "--table",
        action="append",
        metavar="NAME",
        help="only render the paper table OUT/tables/NAME.yaml to .md and .tex (repeatable)",
    )
    what.add_argument("--no-galleries", action="store_true", help="skip the per-model failure galleries")
    what.add_argument(
        "--iou-thresholds",
        metavar="TAU[,TAU...]",
        help="show Acc@TAU at these IoU thresholds, each in (0, 1], 0.5 always added (e.g. 0.3,0.5,0.7); "
        "models scored at others are scored again from their predictions (default: the runs' own)",
    )
