"""Session fixtures: tiny grounders saved once per family, and a few DiffGround-Synth pairs."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.base import PairInput
from harness.data.images import load_pair
from harness.data.manifest import read_manifest
from harness.data.synth import SynthConfig, generate_dataset
from tests.adapters.grounding.mmdet_requirement import require_mmdet
from tests.adapters.grounding.tiny_grounders import (
    save_tiny_hf_grounding_dino,
    save_tiny_official_grounding_dino,
    save_tiny_owlv2,
)
from tests.adapters.grounding.tiny_mmdet_grounder import save_tiny_mmdet_grounding_dino

FAMILY_BUILDERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "gdino": save_tiny_hf_grounding_dino,
    # With its own tokenizer files, to cover that path too (gdino uses the packaged vocabulary).
    "mmgdino": lambda d: save_tiny_hf_grounding_dino(d, mm=True, with_tokenizer=True),
    "owlv2": save_tiny_owlv2,
    "gdino-official": save_tiny_official_grounding_dino,
    "mmdet-gdino": save_tiny_mmdet_grounding_dino,
}
FAMILIES = tuple(FAMILY_BUILDERS)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy 2-core machine OpenMP's waiting threads
    made them 10-40x slower (measured); restored afterwards for the rest of the suite."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_grounder_options(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """family -> adapter options pointing at that family's tiny saved model (built on first use)."""
    built: dict[str, dict[str, Any]] = {}

    def options(family: str) -> dict[str, Any]:
        if family == "gdino-official" and importlib.util.find_spec("groundingdino") is None:
            pytest.skip("groundingdino-py is not installed (pip install 'idg-harness[grounding]')")
        if family == "mmdet-gdino":
            require_mmdet()
        if family not in built:
            built[family] = FAMILY_BUILDERS[family](tmp_path_factory.mktemp(f"tiny-{family}"))
        return dict(built[family])

    return options


@pytest.fixture(scope="session")
def synth_pairs(tmp_path_factory: pytest.TempPathFactory) -> list[PairInput]:
    """Three DiffGround-Synth test queries at the generator's smallest image size."""
    root = tmp_path_factory.mktemp("synth")
    generate_dataset(root, SynthConfig(seed=3, n_train=0, n_val=0, n_test=2, min_size=128, max_size=160))
    samples = read_manifest(root).samples[:3]
    pairs = []
    for sample in samples:
        image_a, image_b = load_pair(root, sample.image_a, sample.image_b)
        pairs.append(PairInput(sample.id, image_a, image_b, sample.query))
    return pairs
