"""Grounding fixtures: a few DiffGround-Synth pairs.

The tiny saved grounders (`tiny_grounder_options`) and the one-torch-thread setting come from
tests/adapters/conftest.py.
"""

from __future__ import annotations

import pytest

from harness.data.images import load_pair
from harness.data.manifest import read_manifest
from harness.data.synth import SynthConfig, generate_dataset
from idg_adapters.base import PairInput


@pytest.fixture(scope="session")
def synth_pairs(tmp_path_factory: pytest.TempPathFactory) -> list[PairInput]:
    """Three DiffGround-Synth test queries at the generator's smallest image size."""
    root = tmp_path_factory.mktemp("synth")
    generate_dataset(
        root,
        SynthConfig(seed=3, n_train=0, n_val=0, n_test=2, n_test_novel=0, n_test_robust=0, min_size=128, max_size=160),
    )
    samples = read_manifest(root).samples[:3]
    pairs = []
    for sample in samples:
        image_a, image_b = load_pair(root, sample.image_a, sample.image_b)
        pairs.append(PairInput(sample.id, image_a, image_b, sample.query))
    return pairs
