"""`harness run`: evaluate models on one split and write results/<run-id>/ (see harness/run/)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from harness.cli.consoles_and_defaults import (
    DEFAULT_DATASET,
    DEFAULT_RESULTS,
    HelpFormatter,
    add_adapter_option_args,
    console,
    err_console,
)
from harness.cli.data import ensure_default_dataset
from harness.errors import HarnessError
from harness.metrics.iou_thresholds import DEFAULT_IOU_THRESHOLDS

EXAMPLES = """examples:
  harness run --models all --split test
  harness run --models 'gdino-*',difftracker --control all --strata template_family
  harness run --models pixel-diff --dataset data/mine --limit 50 --run-id smoke
  harness run --models owlv2-b --opt owlv2-b.weights=google/owlv2-base-patch16-ensemble --allow-download
  harness run --models pixel-diff --dataset data/mig-bench --iou-thresholds 0.3,0.5,0.7
  torchrun --standalone --nproc-per-node 4 -m harness run --models all
"""


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _controls(text: str) -> list[str]:
    from harness.run.controls import UnknownControl, parse_controls

    try:
        return parse_controls(text)
    except UnknownControl as exc:
        raise HarnessError(f"--control: {exc}") from None


def _wrapped(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(text, max(width, 60), subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def summary_lines(result, width: int) -> list[str]:
    """The run's outcome, one line per model that ran, then the others grouped by reason."""
    from harness.report.leaderboard import format_metric
    from idg_adapters.registry import family_of

    info = result.run_info
    lines = [f"Run {info.run_id} ({info.split}, {info.dataset.n_samples} samples)"]
    done = [m for m in result.models if m.done]
    if done:
        name_w = min(max(len(m.name) for m in done), 34)
        lines.append(f"{'MODEL':<{name_w}}  {'ACC@0.5':<18}  {'MIOU':<18}  ERR  NEW/CACHED")
        for m in done:
            o = m.metrics["overall"]
            lines.append(
                f"{m.name:<{name_w}}  {format_metric(o['acc@0.5']):<18}  {format_metric(o['miou']):<18}  "
                f"{m.errors:<3}  {m.computed}/{m.cached}"
            )
    groups: dict[tuple[str, str, str], list[str]] = {}
    first_how: dict[tuple[str, str, str], str] = {}
    for m in result.models:
        if m.status != "done":
            key = (m.status, family_of(m.name), m.reason or "")
            groups.setdefault(key, []).append(m.name)
            first_how.setdefault(key, m.how_to_enable or "")
    for (status, _, reason), names in groups.items():
        how = first_how[(status, _, reason)]
        lines += _wrapped(f"{status} ({len(names)}): {', '.join(names)}", width, "    ")
        lines += _wrapped(f"    why: {reason}", width, "         ")
        if how:
            likewise = " (likewise for the others)" if len(names) > 1 else ""
            lines += _wrapped(f"    enable: {how}{likewise}", width, "            ")
    return lines


def cmd_run(args: argparse.Namespace) -> int:
    from harness.files.output_paths import check_output_folder
    from harness.metrics import parse_iou_thresholds
    from harness.run.adapter_options import load_adapter_options
    from harness.run.interrupts import exit_code_of, sigterm_as_interrupt
    from harness.run.run_config import RunConfig
    from harness.run.run_folder import check_run_id
    from harness.run.runner import run_evaluation

    if args.batch_size < 1:
        raise HarnessError("--batch-size must be at least 1")
    if args.limit is not None and args.limit < 1:
        raise HarnessError("--limit must be at least 1")
    iou_thresholds = parse_iou_thresholds(args.iou_thresholds)
    check_output_folder(args.output_dir, "--output-dir")
    if args.run_id is not None:
        check_run_id(args.run_id)
    if args.dataset is None:
        ensure_default_dataset()
    config = RunConfig(
        models=_split_list(args.models),
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
        extra_strata=_split_list(args.strata),
        iou_thresholds=iou_thresholds,
        loader_workers=max(0, args.loader_workers),
        controls=_controls(args.control),
        force=args.force,
        check_boxes=args.check_boxes,
        allow_download=args.allow_download,
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
    for line in summary_lines(result, console.width):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    invalid = result.run_info.dataset.invalid_count
    if invalid:
        console.print(f"{invalid} invalid sample row(s) skipped (listed in run.json).", markup=False)
    console.print(f"Results: {result.run_dir}", markup=False, highlight=False, soft_wrap=True)
    return 0 if any(m.done for m in result.models) else 1


def register(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="evaluate models on a split and write results/<run-id>/",
        description="Evaluate models on one split of a DiffGround dataset. Predictions are cached and appended "
        "per batch, so a stopped run resumes by running the same command again.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    run.set_defaults(func=cmd_run)
    what = run.add_argument_group("what to evaluate")
    what.add_argument(
        "--models", required=True, help="comma-separated adapter names, globs ('gdino-*'), families, or 'all'"
    )
    what.add_argument("--split", default="test")
    what.add_argument(
        "--dataset", type=Path, help=f"dataset folder (default {DEFAULT_DATASET}, generated on first use)"
    )
    what.add_argument("--limit", type=int, help="only the first N samples of the split (smoke runs)")
    what.add_argument("--skip-invalid", action="store_true", help="evaluate valid samples of a dataset with problems")
    what.add_argument(
        "--control",
        default="",
        metavar="KIND[,KIND...]|all",
        help="also run each model under controls: query-shuffle, a-blind, swap (see README)",
    )
    what.add_argument(
        "--strata",
        default="",
        metavar="ATTR[,ATTR...]",
        help="also report metrics per value of these manifest attributes (e.g. template_family)",
    )
    what.add_argument(
        "--iou-thresholds",
        default=",".join(f"{t:g}" for t in DEFAULT_IOU_THRESHOLDS),
        metavar="TAU[,TAU...]",
        help="IoU thresholds of Acc@TAU, each in (0, 1] (default %(default)s; 0.5 is always added; "
        "MIG-Bench uses 0.3,0.5,0.7). A resume at other thresholds recomputes only the metrics",
    )
    what.add_argument(
        "--check-boxes",
        action="store_true",
        help="first run the box-convention self-check of each model that answers in text (12 probe pairs; "
        "the fit goes into run.json, warnings are printed; see `harness models --check-boxes`)",
    )
    where = run.add_argument_group("where results go")
    where.add_argument("--output-dir", type=Path, default=DEFAULT_RESULTS, help="where run folders go")
    where.add_argument("--run-id", help="name of the run folder (default: UTC time + split)")
    where.add_argument(
        "--force",
        action="store_true",
        help="reuse a --run-id whose folder holds a run of another dataset or split (its files are deleted)",
    )
    where.add_argument("--no-cache", action="store_true", help="recompute every prediction (cache is still written)")
    how = run.add_argument_group("how it runs")
    how.add_argument("--batch-size", type=int, default=8)
    how.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    how.add_argument(
        "--loader-workers",
        type=int,
        default=2,
        help="processes decoding images ahead of the model (0: decode in the main process)",
    )
    options = run.add_argument_group("adapter options")
    add_adapter_option_args(options)
    options.add_argument(
        "--allow-download",
        action="store_true",
        help="let a weights option name a Hugging Face hub model (org/name or org/name@revision): fetched "
        "into the HF cache at load (reused afterwards), its commit recorded in run.json. Off: local paths only",
    )
