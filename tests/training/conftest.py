"""A tiny DiffGround-Synth dataset and a tiny cd-siamese training config, shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.data.synth import SynthConfig, generate_dataset
from tests.difftracker.conftest import tiny_text_encoder  # noqa: F401  (fixture shared with tests/difftracker)

TINY_TASK_OPTIONS = {
    "network": {"channels": [4, 8]},
    "image_size": 64,
    "crop_size": 32,
    "max_val_pairs": 3,
    "reference_pairs": 2,
    "loader_threads": 1,
}


def tiny_config(**overrides) -> dict:
    config = {
        "task": "cd-siamese",
        "epochs": 2,
        "batch_size": 2,
        "lr": 0.01,
        "warmup_steps": 2,
        "seed": 0,
        "cpu_threads": 1,
        "task_options": dict(TINY_TASK_OPTIONS),
    }
    config.update(overrides)
    return config


def write_config(path: Path, **overrides) -> Path:
    path.write_text(yaml.safe_dump(tiny_config(**overrides)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 train and 6 val queries (a few pairs each) of 128 px DiffGround-Synth."""
    root = tmp_path_factory.mktemp("synth") / "tiny-synth"
    generate_dataset(
        root,
        SynthConfig(seed=3, n_train=8, n_val=6, n_test=0, n_test_novel=0, n_test_robust=0, min_size=128, max_size=128),
    )
    return root
