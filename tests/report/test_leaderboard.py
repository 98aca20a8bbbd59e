"""The markdown leaderboard: ranking, CIs, edit-type tables, skipped models, invalid counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from harness.errors import HarnessError
from harness.report.leaderboard import format_metric, render_leaderboard
from harness.report.runs import latest_complete_run, load_run, merge_runs
from harness.run.run_config import RunConfig
from harness.run.runner import run_evaluation
from tests.tiny_dataset import write_tiny_dataset

QUIET = Console(quiet=True)


def _run(dataset: Path, out: Path, models: list[str], split: str = "test", **kw) -> Path:
    config = RunConfig(models=models, split=split, dataset=dataset, output_dir=out, device="cpu", **kw)
    return run_evaluation(config, QUIET).run_dir


def test_format_metric() -> None:
    assert format_metric({"value": 0.4321, "ci": [0.401, 0.463]}) == "43.2 [40.1, 46.3]"
    assert format_metric({"value": 0.5, "ci": None}) == "50.0"
    assert format_metric(None) == "—"


def test_leaderboard_ranks_and_lists_skips(tiny_dataset: Path, tmp_path: Path) -> None:
    with (tiny_dataset / "manifest.jsonl").open("a") as fh:
        fh.write("{broken\n")
    out = tmp_path / "res"
    _run(tiny_dataset, out, ["center-prior", "pixel-diff"], skip_invalid=True, run_id="first")
    board = render_leaderboard([load_run(latest_complete_run(out))])
    lines = board.splitlines()
    rows = [line for line in lines if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert "`pixel-diff`" in rows[0] and "`center-prior`" in rows[1]
    assert "Invalid samples skipped: 1." in board
    assert "| Model | remove (n=3) | add (n=3) |" in board


def test_later_run_replaces_a_model_and_splits_cannot_mix(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    write_tiny_dataset(ds)
    write_tiny_dataset(ds, split="val")
    out = tmp_path / "res"
    first = load_run(_run(ds, out, ["center-prior"], run_id="a"))
    second = load_run(_run(ds, out, ["center-prior", "random-box"], run_id="b"))
    merged = merge_runs([first, second])
    assert sorted(e.name for e in merged) == ["center-prior", "random-box"]
    assert {e.run_id for e in merged} == {"b"}
    val = load_run(_run(ds, out, ["center-prior"], split="val", run_id="c"))
    with pytest.raises(HarnessError, match="different datasets or splits"):
        merge_runs([first, val])
