"""Training DiffTracker with the frozen-feature cache (difftracker/feature_cache.py) gives the same
weights as training without it."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file

from harness.cli import main
from tests.difftracker.conftest import tiny_model_options


def test_training_with_the_cache_gives_the_same_weights(
    tiny_synth: Path, tiny_text_encoder: Path, tmp_path: Path
) -> None:
    """One pair per step, so each pair's features are computed with the same (no) neighbours with
    and without the cache: the two runs must agree to the bit."""
    weights = {}
    for mode in ("on", "off"):
        config = {
            "task": "difftracker",
            "epochs": 2,
            "batch_size": 1,
            "lr": 0.001,
            "warmup_steps": 2,
            "seed": 0,
            "cpu_threads": 1,
            "task_options": {
                "model": {**tiny_model_options(tiny_text_encoder), "dem_stages": "last"},
                "reference_queries": 2,
                "loader_threads": 1,
                "feature_cache": mode,
            },
        }
        path = tmp_path / f"{mode}.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        out = tmp_path / mode
        argv = ["train", "difftracker", "--config", str(path), "--dataset", str(tiny_synth), "--output", str(out)]
        assert main([*argv, "--device", "cpu"]) == 0
        weights[mode] = load_file(str(out / "last" / "model.safetensors"))
        rows = json.loads((out / "log.json").read_text())
        assert all((row.get("train_feature_cache_megabytes", 0) > 0) == (mode == "on") for row in rows), rows
    assert weights["on"].keys() == weights["off"].keys()
    assert all(torch.equal(weights["on"][k], weights["off"][k]) for k in weights["on"])
