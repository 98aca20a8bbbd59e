"""`harness score`: score predictions made elsewhere into a run folder (see harness/run/scored_model.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.cli.consoles_and_defaults import DEFAULT_RESULTS, HelpFormatter, console, err_console
from harness.errors import HarnessError

EXAMPLES = """examples:
  harness score preds.jsonl --dataset data/mine --split test --name my-model
  harness score boxes.csv --format csv --boxes normalized --dataset data/mine --split test --name m
  harness score replies.jsonl --format text --convention qwen2-vl --dataset D --split test --name qwen2-vl-7b
  harness score out.json --format mig-bench --convention internvl2 --dataset D --split test --name internvl2
  harness score preds.jsonl --dataset D --split test --name m --run-id RUN   (join an existing run)

formats (declared, never guessed):
  jsonl      {"id": ..., "boxes": [[x1, y1, x2, y2], ...], "scores": [...]} a line (scores optional)
  csv        header id,x1,y1,x2,y2[,score]; one box a row, several rows per id
  text       {"id": ..., "reply": "..."} a line: the model's raw reply, read by --convention
  mig-bench  JSON list or JSONL of {"question", "images": [A, B], "reply" | "answer" | "response"}, or
             MIG-Bench's own output ({"task", "question", "answer", "groundtruth", ...} in MIG_data.json's
             order, matched by task and position to a dataset from `harness data import mig-bench`)

conventions (text, mig-bench): qwen2-vl and internvl2 (0-1000 unless --boxes says otherwise),
  minicpm, mantis and plain (pass --boxes)
"""


def cmd_score(args: argparse.Namespace) -> int:
    from harness.files.output_paths import check_output_folder
    from harness.report.leaderboard import format_metric
    from harness.run.scored_model import ScoreRequest, score_predictions

    check_output_folder(args.output_dir, "--output-dir")
    if not args.predictions.is_file():
        raise HarnessError(f"{args.predictions}: no such predictions file")
    request = ScoreRequest(
        predictions=args.predictions,
        dataset=args.dataset,
        split=args.split,
        name=args.name,
        format=args.format,
        convention=args.convention,
        boxes=args.boxes,
        output_dir=args.output_dir,
        run_id=args.run_id,
        allow_extra=args.allow_extra,
        force=args.force,
        argv=sys.argv[1:],
    )
    result = score_predictions(request, err_console)
    entry = result.entry
    for problem in result.ignored:
        err_console.print(f"ignored (--allow-extra): {problem}", markup=False, highlight=False, soft_wrap=True)
    overall = entry.metrics["overall"]
    lines = [
        f"Scored {entry.name} from {request.predictions} ({entry.predictions_format}, boxes in {entry.boxes}"
        + (f", convention {entry.convention}" if entry.convention else "")
        + f"): {entry.n} samples",
        f"  Acc@0.5 {format_metric(overall['acc@0.5'])}  mIoU {format_metric(overall['miou'])}",
        f"  no prediction: {entry.no_prediction} ({result.absent} absent from the file, "
        f"{result.empty_replies} replies without a box); errors: {entry.errors}; clipped: {entry.clipped}; "
        f"ignored predictions: {len(result.ignored)}",
        f"{'Joined run' if result.joined else 'New run'}: {result.run_dir}",
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    score = commands.add_parser(
        "score",
        help="score a predictions file made elsewhere into a run folder, like a model the harness ran",
        description="Read a model's predictions from a file in a declared format, check them (every problem "
        "listed with file, line and field; nothing is written if there is one), and score them into a run "
        "folder that `harness report` treats like any other model. Every sample of the split counts: one "
        "the file has no answer for is a no-prediction miss.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    score.set_defaults(func=cmd_score)
    score.add_argument("predictions", type=Path, help="the predictions file")
    what = score.add_argument_group("what to score")
    what.add_argument("--dataset", type=Path, required=True, help="the dataset folder the predictions are for")
    what.add_argument("--split", required=True, help="the split the predictions are for")
    what.add_argument("--name", required=True, help="the model's name in the run and the leaderboard")
    how = score.add_argument_group("how to read the file")
    how.add_argument("--format", default="jsonl", help="jsonl (default), csv, text or mig-bench")
    how.add_argument(
        "--convention",
        help="how the replies write boxes (text, mig-bench): qwen2-vl, internvl2, minicpm, mantis, plain",
    )
    how.add_argument(
        "--boxes",
        help="what the numbers mean: pixels (of B), normalized (0-1) or 0-1000 "
        "(default: pixels; for replies, the convention's scale)",
    )
    how.add_argument(
        "--allow-extra",
        action="store_true",
        help="ignore (and list) predictions for samples the split does not have, instead of refusing the file",
    )
    where = score.add_argument_group("where results go")
    where.add_argument("--output-dir", type=Path, default=DEFAULT_RESULTS, help="where run folders go")
    where.add_argument(
        "--run-id",
        help="the run folder (default: a new one, UTC time + split); an existing run of the same "
        "dataset and split is joined, its other models untouched",
    )
    where.add_argument(
        "--force",
        action="store_true",
        help="reuse a --run-id whose folder holds a run of another dataset or split (its files are deleted)",
    )
