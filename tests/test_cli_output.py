"""`harness models` and the end of `harness run` read well at 80 columns and in a non-TTY log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main

REPO = Path(__file__).resolve().parents[1]


def _harness(*args: str, columns: int = 80) -> subprocess.CompletedProcess:
    """The CLI in a child process whose output is a pipe (not a TTY), as in CI."""
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONPATH": str(REPO)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "harness", *args], env=env, capture_output=True, text=True)


def test_models_list_is_one_line_per_model_within_80_columns() -> None:
    from idg_adapters.registry import available_names

    result = _harness("models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "\x1b[" not in result.stdout, "no colour codes in a non-TTY log"
    assert all(len(line) <= 80 for line in lines if not line.startswith(("    enable:", "            "))), [
        line for line in lines if len(line) > 80
    ]
    names = available_names()
    model_lines = [line for line in lines if line.split(" ", 1)[0] in names]
    assert [line.split()[0] for line in model_lines] == names  # each model exactly once, in order
    # Skipped models are grouped: one 'why' per family and reason, not one per model.
    assert sum(1 for line in lines if line.strip().startswith("why:")) < len(names) / 2


def test_models_filter_by_glob_family_and_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "owlv2-*", "pixel-diff"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line[:1].isalpha()]
    assert [n for n in listed if n not in ("MODEL", "Skipped")][:6] == [
        "owlv2-a",
        "owlv2-b",
        "owlv2-canvas",
        "owlv2-cdrank",
        "owlv2-diffimg",
        "pixel-diff",
    ]
    assert main(["models", "owlv2"]) == 0  # a family
    assert "owlv2-diffimg" in capsys.readouterr().out
    assert main(["models", "nope-*"]) == 2
    assert "no adapter matches 'nope-*'" in capsys.readouterr().err


def test_models_name_prints_the_details(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "pixel-diff", "--opt", "pixel-diff.min_area=5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pixel-diff\n")
    assert "pixel-diff.min_area = 5  (given)" in out and "pixel-diff.max_boxes = 10" in out


def test_run_accepts_globs_and_prints_short_lines(tiny_dataset: Path, tmp_path: Path) -> None:
    result = _harness(
        "run",
        "--models",
        "center-*,pixel-diff,owlv2-*",
        "--dataset",
        str(tiny_dataset),
        "--output-dir",
        str(tmp_path / "r"),
        "--run-id",
        "g",
        "--loader-workers",
        "0",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert "\x1b[" not in result.stdout
    assert any(line.startswith("center-prior ") for line in out) and any(line.startswith("pixel-diff ") for line in out)
    assert any(line.startswith("skipped (5): owlv2-a, owlv2-b") for line in out)
    assert all(len(line) <= 80 for line in out if not line.startswith(("Results:", "    enable:", "            ")))
