"""Shared fixtures: offline environment and a tiny hand-made DiffGround dataset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tiny_dataset import write_tiny_dataset

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    write_tiny_dataset(root)
    return root
