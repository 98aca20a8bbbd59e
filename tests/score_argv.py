"""The `harness score` command line that the score tests share."""

from __future__ import annotations

from pathlib import Path


def score_argv(path: Path, dataset: Path, out: Path, name: str = "ext") -> list[str]:
    return ["score", str(path), "--dataset", str(dataset), "--split", "test", "--name", name, "--output-dir", str(out)]
