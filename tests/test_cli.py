"""The `harness` CLI end to end: models, data validate/stats, run, report, and kill -9 resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main


def test_models_lists_builtin_adapters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("pixel-diff", "center-prior", "random-box"):
        assert name in out


def test_validate_exit_codes(tiny_dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "validate", str(tiny_dataset)]) == 0
    with (tiny_dataset / "manifest.jsonl").open("a") as fh:
        fh.write("{not json\n")
    assert main(["data", "validate", str(tiny_dataset)]) == 1
    out = capsys.readouterr().out
    assert "manifest.jsonl:7: field '<json>' is not valid JSON" in out


def test_run_then_report(tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, boards = tmp_path / "results", tmp_path / "boards"
    code = main(
        ["run", "--models", "all", "--dataset", str(tiny_dataset), "--output-dir", str(results), "--run-id", "r1"]
    )
    assert code == 0
    assert main(["report", "--results-dir", str(results), "--out", str(boards)]) == 0
    board = (boards / "leaderboard.md").read_text()
    assert "`pixel-diff`" in board and "`center-prior`" in board and "`random-box`" in board
    assert "## Acc@0.5 by edit type" in board and "remove (n=3)" in board
    assert "results/r1" in board


def test_run_reports_bad_input_clearly(tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "res")
    assert main(["run", "--models", "nope", "--dataset", str(tiny_dataset), "--output-dir", out]) == 2
    assert "no adapter matches 'nope'" in capsys.readouterr().err
    assert main(["run", "--models", "pixel-diff", "--dataset", str(tmp_path / "missing"), "--output-dir", out]) == 2
    assert "no manifest" in capsys.readouterr().err
    assert (
        main(["run", "--models", "pixel-diff", "--dataset", str(tiny_dataset), "--split", "val", "--output-dir", out])
        == 2
    )
    assert "no valid samples in split 'val'" in capsys.readouterr().err
    assert (
        main(["run", "--models", "pixel-diff", "--opt", "bad", "--dataset", str(tiny_dataset), "--output-dir", out])
        == 2
    )
    assert "expected MODEL.KEY=VALUE" in capsys.readouterr().err


def test_report_without_runs_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--results-dir", str(tmp_path), "--out", str(tmp_path / "b")]) == 2
    assert "harness run --models all --split test" in capsys.readouterr().err


def test_data_synth_stats_validate_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synth"
    args = ["data", "synth", "--out", str(out), "--train", "6", "--val", "3", "--test", "6"]
    assert main(args + ["--min-size", "256", "--max-size", "288"]) == 0
    assert "test 6 queries" in capsys.readouterr().out
    assert main(["data", "validate", str(out)]) == 0
    assert "no problems" in capsys.readouterr().out
    assert main(["data", "stats", str(out), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["counts"]["test"]["total"] == 6 and stats["counts"]["val"]["total"] == 3
    # A different dataset may not be written over this one without --overwrite.
    assert main(["data", "synth", "--out", str(out), "--seed", "1", "--train", "3", "--val", "3", "--test", "3"]) == 2
    assert str(out) in capsys.readouterr().err
    code = main(["run", "--models", "pixel-diff", "--dataset", str(out), "--output-dir", str(tmp_path / "r")])
    assert code == 0


def test_run_without_dataset_generates_the_default_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import functools

    import harness.cli.consoles_and_defaults as defaults
    import harness.cli.run as run_command
    import harness.data.synth as synth

    monkeypatch.setattr(defaults, "DEFAULT_DATASET", tmp_path / "default")
    monkeypatch.setattr(run_command, "DEFAULT_DATASET", tmp_path / "default")
    small = functools.partial(
        synth.SynthConfig, n_train=3, n_val=3, n_test=4, n_test_novel=2, n_test_robust=2, max_size=256
    )
    monkeypatch.setattr(synth, "SynthConfig", small)
    assert main(["run", "--models", "center-prior", "--output-dir", str(tmp_path / "r"), "--run-id", "x"]) == 0
    assert (tmp_path / "default" / "manifest.jsonl").is_file()
    info = json.loads((tmp_path / "r" / "x" / "run.json").read_text())
    assert info["dataset"]["name"] == "DiffGround-Synth" and info["dataset"]["n_samples"] == 4
