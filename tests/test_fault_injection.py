"""Fault injection: every kind of bad adapter output is clipped or recorded by the documented rule,
the run goes on, and the leaderboard shows the error counts per model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from harness.report.leaderboard import render_leaderboard
from harness.report.runs import load_run
from harness.run.run_config import RunConfig
from harness.run.runner import run_evaluation
from idg_adapters.base import Adapter, PairInput, Prediction
from idg_adapters.registry import register, unregister

# sample id -> what the adapter does for it, and what the record must say
FAULTS = {
    "test-000-d0": ("raise", "error", "RuntimeError: injected failure"),
    "test-000-d1": ("nan", "error", "non-finite"),
    "test-001-d0": ("inf", "error", "non-finite"),
    "test-001-d1": ("flipped", "error", "flipped box"),
    "test-002-d0": ("negative", "clipped", [[0.0, 0.0, 10.0, 12.0]]),
    "test-002-d1": ("outside", "clipped", [[70.0, 50.0, 80.0, 64.0]]),
    "test-003-d0": ("not-a-prediction", "error", "not a Prediction"),
    "test-003-d1": ("score-mismatch", "error", "2 boxes but 1 scores"),
}


class _Faulty(Adapter):
    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        out = []
        for item in batch:
            fault = FAULTS.get(item.id, ("ok",))[0]
            if fault == "raise":
                raise RuntimeError("injected failure")
            boxes = {
                "nan": [[np.nan, 0, 5, 5]],
                "inf": [[0, 0, np.inf, 5]],
                "flipped": [[20, 5, 10, 20]],
                "negative": [[-8, -3, 10, 12]],
                "outside": [[70, 50, 300, 200]],
                "score-mismatch": [[0, 0, 5, 5], [1, 1, 6, 6]],
            }.get(fault, [[0, 0, 10, 10]])
            if fault == "not-a-prediction":
                out.append({"boxes": boxes})
            else:
                out.append(Prediction(boxes=boxes, scores=[1.0]))
        return out


class _TooFew(Adapter):
    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return [Prediction.ranked([[0, 0, 10, 10]], [1.0])] * (len(batch) - 1)


@pytest.fixture(autouse=True)
def faulty_adapters():
    register("test-faulty-outputs")(_Faulty)
    register("test-too-few")(_TooFew)
    yield
    unregister("test-faulty-outputs")
    unregister("test-too-few")


def test_every_fault_is_handled_by_the_rule(tmp_path: Path) -> None:
    from tests.tiny_dataset import write_tiny_dataset

    dataset = tmp_path / "ds"
    write_tiny_dataset(dataset, n_pairs=5)
    config = RunConfig(
        models=["test-faulty-outputs", "test-too-few", "center-prior"],
        split="test",
        dataset=dataset,
        output_dir=tmp_path / "res",
        batch_size=3,
        device="cpu",
    )
    result = run_evaluation(config, Console(quiet=True))
    lines = (result.run_dir / "test-faulty-outputs" / "predictions.jsonl").read_text().splitlines()
    records = {r["id"]: r for r in map(json.loads, lines)}
    assert len(records) == 10, "no sample may be lost"
    for sample_id, (_, kind, expected) in FAULTS.items():
        record = records[sample_id]
        if kind == "error":
            assert expected in record["error"], (sample_id, record)
            assert record["boxes"] == []
        else:
            assert record["clipped"] and record["boxes"] == expected, (sample_id, record)
    assert "error" not in records["test-004-d0"]
    models = result.run_info.to_json()["models"]
    assert models["test-faulty-outputs"]["errors"] == 6
    assert models["test-faulty-outputs"]["clipped"] == 2
    assert models["test-too-few"]["errors"] == 10
    assert models["center-prior"]["errors"] == 0

    board = render_leaderboard([load_run(result.run_dir)])
    rows = {
        line.split("|")[2].strip(): line.split("|")
        for line in board.splitlines()
        if line.startswith("| ") and "`" in line
    }
    assert rows["`test-faulty-outputs`"][-2].strip() == "6"
    assert rows["`test-too-few`"][-2].strip() == "10"
