"""Shared DiffGround-Synth datasets for the data tests, generated once per session (tiny sizes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.data.synth import SynthConfig, SynthReport, generate_dataset

TINY = dict(n_train=12, n_val=6, n_test=12, n_test_novel=0, n_test_robust=0, min_size=256, max_size=320)
# A small version-2 dataset with every split, shared by the language / held-out / robust tests.
V2_SMALL = dict(n_train=160, n_val=30, n_test=30, n_test_novel=150, n_test_robust=24, min_size=256, max_size=288)


@pytest.fixture(scope="session")
def synth_tiny(tmp_path_factory) -> tuple[Path, SynthReport]:
    out = tmp_path_factory.mktemp("synth_tiny")
    return out, generate_dataset(out, SynthConfig(seed=0, **TINY))


@pytest.fixture(scope="session")
def synth_medium(tmp_path_factory) -> tuple[Path, SynthReport]:
    """Enough pairs to see every edit type and most templates."""
    out = tmp_path_factory.mktemp("synth_medium")
    config = SynthConfig(
        seed=3, n_train=450, n_val=0, n_test=0, n_test_novel=0, n_test_robust=0, min_size=256, max_size=320
    )
    return out, generate_dataset(out, config)


@pytest.fixture(scope="session")
def synth_robust(tmp_path_factory) -> tuple[Path, SynthReport]:
    """Version 1's robust mode (version 2's nuisance is tested on synth_v2's test-robust split)."""
    out = tmp_path_factory.mktemp("synth_robust")
    config = SynthConfig(seed=1, n_train=24, n_val=0, n_test=6, min_size=256, max_size=320, robust=True, version=1)
    return out, generate_dataset(out, config)


@pytest.fixture(scope="session")
def synth_v2(tmp_path_factory) -> tuple[Path, SynthReport]:
    out = tmp_path_factory.mktemp("synth_v2")
    return out, generate_dataset(out, SynthConfig(seed=5, **V2_SMALL))
