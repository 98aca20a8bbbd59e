"""Generator version 1 stays reproducible: SynthConfig(version=1) writes the 1.0.0 files byte for byte.

The digests below were computed with the 1.0.0 generator (before version 2 existed) on these
exact configurations: manifest.jsonl, dataset.json, and the dataset fingerprint (which covers
every image and mask the manifest references).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from harness.data.synth import SynthConfig, generate_dataset

CASES = {
    "plain": (
        dict(seed=7, n_train=20, n_val=6, n_test=10, min_size=256, max_size=320),
        "13b0426d6cba4f600f63a0973b5255631395dfd8352821955df521176d0941e4",
        "764cd8219f14d94729b74ba11817a8de7b7f02d96e7904e020d910d7eef52fbc",
        "9919cab16259642037c59c9ffab3a7927e2948c0cfa1c74678e60c2cb1a3231c",
    ),
    "robust": (
        dict(seed=5, n_train=10, n_val=0, n_test=6, min_size=256, max_size=320, robust=True),
        "3d3cb8e7fcfbf4c39b2d405e9b870bb1203b8994dd81ddb4202c8e8604233846",
        "ea08e04f91b34dc0187eaba85c82e82301feddf0444616cd772534ce7f1574de",
        "47efe04efe2a0b38215f62642641a6000e39b0c32ecc4200f6d0b1520a1ac2ac",
    ),
    "category": (
        dict(seed=11, n_train=15, n_val=0, n_test=5, min_size=256, max_size=320, allow_category_names=True),
        "ca8f113b51c20bf5c56d2bd3e63a9da665a262b2a7b55c43aed34c0575a85558",
        "e82d591da62c254b3ad8a0891f8fa3e0dc94b97d2515f8e5c22a14f914b1aad0",
        "5ca61509c7bd2e38d802d0e234c00442c6ced3c565d1310d6c496fcebf96fbf5",
    ),
}


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("case", sorted(CASES))
def test_version_1_reproduces_the_1_0_0_files(case, tmp_path):
    fields, manifest_sha, info_sha, fingerprint = CASES[case]
    generate_dataset(tmp_path, SynthConfig(version=1, **fields))
    assert _sha256(tmp_path / "manifest.jsonl") == manifest_sha
    assert json.loads((tmp_path / "dataset.json").read_text())["fingerprint"] == fingerprint
    assert _sha256(tmp_path / "dataset.json") == info_sha


def test_version_1_ignores_the_version_2_split_sizes(tmp_path):
    fields = dict(CASES["plain"][0], n_train=4, n_val=0, n_test=0)
    report = generate_dataset(tmp_path, SynthConfig(version=1, n_test_novel=7, n_test_robust=3, **fields))
    assert report.queries_per_split == {"train": 4, "val": 0, "test": 0}
    info = json.loads((tmp_path / "dataset.json").read_text())
    assert info["version"] == "1.0.0" and "n_test_novel" not in info["generator"]["config"]
    assert "language" not in info


def test_config_rejects_bad_version_fields():
    with pytest.raises(ValueError, match="version"):
        SynthConfig(version=3)
    with pytest.raises(ValueError, match="robust_train_fraction"):
        SynthConfig(robust_train_fraction=1.5)
    with pytest.raises(ValueError, match="version 2"):
        SynthConfig(version=1, robust_train_fraction=0.5)
    with pytest.raises(ValueError, match="n_test_novel"):
        SynthConfig(n_test_novel=-1)
    assert SynthConfig().version == 2 and SynthConfig().version_string == "2.0.0"
    assert (SynthConfig().n_test_novel, SynthConfig().n_test_robust, SynthConfig().robust_train_fraction) == (
        500,
        500,
        0,
    )
