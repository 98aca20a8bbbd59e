"""Pixel-level change metrics end to end: adapters' masks are scored against each pair's masks,
once per pair, accumulated over the split, and only on the normal (non-control) run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.console import Console

from harness.data.manifest import read_manifest
from harness.data.synth import SynthConfig, generate_dataset
from harness.run.run_config import RunConfig
from harness.run.runner import run_evaluation
from idg_adapters.base import Adapter, PairInput, Prediction
from idg_adapters.registry import register, unregister


class _EverythingChanged(Adapter):
    uses_query = False

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return [
            Prediction(boxes=[[0, 0, 4, 4]], scores=[1.0], mask=np.ones(p.image_b.size[::-1], dtype=bool))
            for p in batch
        ]


@pytest.fixture
def everything_changed():
    register("test-everything-changed")(_EverythingChanged)
    yield
    unregister("test-everything-changed")


def test_pixel_metrics_match_a_direct_count(tmp_path: Path, everything_changed) -> None:
    root = tmp_path / "synth"
    generate_dataset(
        root, SynthConfig(n_train=0, n_val=0, n_test=9, n_test_novel=0, n_test_robust=0, min_size=256, max_size=256)
    )
    config = RunConfig(
        models=["test-everything-changed"],
        split="test",
        dataset=root,
        output_dir=tmp_path / "res",
        device="cpu",
        controls=["a-blind"],
    )
    result = run_evaluation(config, Console(quiet=True))
    normal, blind = result.models
    pixel = normal.metrics["pixel_change"]
    samples = read_manifest(root).samples
    changed, total = 0, 0
    for pair in sorted({s.pair_id for s in samples}):
        union = np.zeros((256, 256), dtype=bool)
        for s in samples:
            if s.pair_id == pair:
                union |= np.asarray(Image.open(root / s.mask_b).convert("L")) > 127
        changed += int(union.sum())
        total += union.size
    assert pixel["pairs"] == len({s.pair_id for s in samples})
    assert (pixel["tp"], pixel["fp"], pixel["fn"]) == (changed, total - changed, 0)
    assert pixel["recall"] == 1.0 and pixel["precision"] == pytest.approx(changed / total)
    assert "pixel_change" not in blind.metrics, "controls are not scored at pixel level"


def test_report_shows_pixel_table(tmp_path: Path, everything_changed) -> None:
    from harness.cli import main

    root = tmp_path / "synth"
    generate_dataset(
        root, SynthConfig(n_train=0, n_val=0, n_test=4, n_test_novel=0, n_test_robust=0, min_size=256, max_size=256)
    )
    out = tmp_path / "res"
    assert (
        main(
            [
                "run",
                "--models",
                "test-everything-changed,center-prior",
                "--dataset",
                str(root),
                "--output-dir",
                str(out),
                "--run-id",
                "p",
            ]
        )
        == 0
    )
    assert main(["report", str(out / "p"), "--out", str(tmp_path / "b"), "--no-galleries"]) == 0
    board = (tmp_path / "b" / "leaderboard.md").read_text()
    assert "## Pixel-level change detection" in board
    row = next(
        line for line in board.splitlines() if line.startswith("| `test-everything-changed`") and "100.0" in line
    )
    assert row.count("|") == 7
    assert 'id="pixel-change"' in (tmp_path / "b" / "index.html").read_text()
