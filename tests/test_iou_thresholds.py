"""`--iou-thresholds` of `harness run` and `harness report`: Acc@τ at other thresholds (MIG-Bench's
0.3/0.5/0.7) in metrics.json, run.json and the leaderboards, also for a model `harness score` adds to the
run; values checked; resumes rescore only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import HarnessError
from harness.metrics import parse_iou_thresholds
from harness.report.rescored_metrics import rescore_runs
from harness.report.runs import load_run
from harness.run.run_records import read_run_info
from tests.score_argv import score_argv

MODELS = "center-prior,pixel-diff"


def _run(dataset: Path, out: Path, run_id: str, *extra: str) -> int:
    argv = ["run", "--models", MODELS, "--dataset", str(dataset), "--output-dir", str(out), "--run-id", run_id]
    return main([*argv, "--loader-workers", "0", *extra])


def _metrics(run_dir: Path, model: str) -> dict:
    return json.loads((run_dir / model / "metrics.json").read_text())["metrics"]


def _overall_header(board: str) -> str:
    return next(line for line in board.splitlines() if line.startswith("| # | Model | N |"))


def test_run_at_mig_bench_thresholds_writes_them_everywhere(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert _run(tiny_dataset, out, "mig", "--iou-thresholds", "0.3, 0.7") == 0  # 0.5 is added
    metrics = _metrics(out / "mig", "pixel-diff")
    assert {k for k in metrics["overall"] if k.startswith("acc@")} == {"acc@0.3", "acc@0.5", "acc@0.7"}
    assert metrics["config"]["thresholds"] == [0.3, 0.5, 0.7] and "miou" in metrics["overall"]
    assert read_run_info(out / "mig" / "run.json").config.iou_thresholds == [0.3, 0.5, 0.7]

    boards = tmp_path / "boards"
    assert main(["report", str(out / "mig"), "--out", str(boards), "--no-galleries"]) == 0
    board = (boards / "leaderboard.md").read_text()
    assert _overall_header(board) == "| # | Model | N | Acc@0.5 | mIoU | Acc@0.3 | Acc@0.7 | cIoU | AP50 | Errors |"
    html = (boards / "index.html").read_text()
    assert "Acc@0.3" in html and "Acc@0.7" in html and "Acc@0.25" not in html

    # A model scored from a file into this run takes its thresholds.
    lines = (out / "mig" / "pixel-diff" / "predictions.jsonl").read_text().splitlines()
    path = tmp_path / "preds.jsonl"
    path.write_text(
        "".join(json.dumps({k: json.loads(line)[k] for k in ("id", "boxes", "scores")}) + "\n" for line in lines)
    )
    assert main([*score_argv(path, tiny_dataset, out, "from-file"), "--run-id", "mig"]) == 0
    assert _metrics(out / "mig", "from-file")["overall"] == _metrics(out / "mig", "pixel-diff")["overall"]

    # A resume at other thresholds reuses every prediction and recomputes the metrics only.
    assert _run(tiny_dataset, out, "mig") == 0
    metrics = _metrics(out / "mig", "pixel-diff")
    assert {k for k in metrics["overall"] if k.startswith("acc@")} == {"acc@0.25", "acc@0.5", "acc@0.75"}
    assert read_run_info(out / "mig" / "run.json").models["pixel-diff"].computed == 0


def test_report_scores_a_default_run_again_at_asked_thresholds(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert _run(tiny_dataset, out, "default") == 0
    assert _run(tiny_dataset, out, "mig", "--iou-thresholds", "0.3,0.5,0.7") == 0
    stored = (out / "default" / "pixel-diff" / "metrics.json").read_bytes()

    run = load_run(out / "default")
    assert sorted(rescore_runs([run], (0.3, 0.5, 0.7))) == ["center-prior", "pixel-diff"]
    for entry in run.models:  # what a run at these thresholds wrote, pixel-level block included
        assert entry.metrics == _metrics(out / "mig", entry.name)
    assert rescore_runs([run], (0.3, 0.5)) == []  # already has them
    assert (out / "default" / "pixel-diff" / "metrics.json").read_bytes() == stored  # run folder unchanged

    boards = tmp_path / "boards"
    assert main(["report", str(out / "default"), "--out", str(boards), "--no-galleries"]) == 0
    default_header = _overall_header((boards / "leaderboard.md").read_text())
    assert "| Acc@0.25 | Acc@0.75 |" in default_header
    argv = ["report", str(out / "default"), "--out", str(boards), "--no-galleries", "--iou-thresholds", "0.3,0.7"]
    assert main(argv) == 0
    board = (boards / "leaderboard.md").read_text()
    assert "| Acc@0.5 | mIoU | Acc@0.3 | Acc@0.7 | cIoU |" in _overall_header(board)
    mig_row = next(line for line in board.splitlines() if "`pixel-diff`" in line and line.startswith("| "))
    acc_03 = _metrics(out / "mig", "pixel-diff")["overall"]["acc@0.3"]["value"]
    assert f"| {100 * acc_03:.1f} [" in mig_row


def test_report_cannot_score_again_without_the_dataset(tiny_dataset: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "res"
    assert _run(tiny_dataset, out, "r") == 0
    (tiny_dataset / "manifest.jsonl").rename(tiny_dataset / "moved.jsonl")
    argv = ["report", str(out / "r"), "--out", str(tmp_path / "b"), "--iou-thresholds", "0.3,0.7"]
    assert main(argv) == 2
    assert "--iou-thresholds: dataset" in capsys.readouterr().err
    assert main(["report", str(out / "r"), "--out", str(tmp_path / "b"), "--iou-thresholds", "0.25,0.75"]) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,0.5", "--iou-thresholds: 0 is outside (0, 1]"),
        ("0.3,1.5", "--iou-thresholds: 1.5 is outside (0, 1]"),
        ("0.3;0.7", "--iou-thresholds: '0.3;0.7' is not a number"),
        ("nan", "--iou-thresholds: nan is outside (0, 1]"),
        (" , ", "--iou-thresholds: give at least one IoU threshold"),
    ],
)
def test_bad_thresholds_are_refused_naming_the_option(
    tiny_dataset: Path, tmp_path: Path, capsys, text: str, message: str
) -> None:
    with pytest.raises(HarnessError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_iou_thresholds(text)
    assert _run(tiny_dataset, tmp_path / "res", "r", "--iou-thresholds", text) == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "res").exists()
    assert main(["report", "--results-dir", str(tmp_path), "--iou-thresholds", text]) == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_thresholds_are_sorted_with_the_main_one_added() -> None:
    assert parse_iou_thresholds("0.7,0.3,0.7") == (0.3, 0.5, 0.7)
    assert parse_iou_thresholds("1") == (0.5, 1.0)
