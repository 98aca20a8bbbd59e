"""DiffGround-Synth 2 splits: quotas, determinism, same scenes as version 1, and the robust split."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from harness.data.manifest import read_dataset_info, read_manifest
from harness.data.synth import SynthConfig, generate_dataset
from harness.data.synth.generator import _build, pair_rng
from harness.data.synth.held_out import inventory
from harness.data.synth.nuisance import NuisanceParams, photometric_table, render_nuisance
from harness.data.synth.pair import build_pair, tight_box
from harness.data.synth.robust import warp_mask
from tests.data.conftest import V2_SMALL

SEED = 5  # conftest's synth_v2
ALL_SPLITS = ("train", "val", "test", "test-novel", "test-robust")
SMALL = dict(n_train=8, n_val=3, n_test=3, n_test_novel=6, n_test_robust=5, min_size=256, max_size=256)


def _all_bytes(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _load(root, rel) -> np.ndarray:
    return np.asarray(Image.open(root / rel))


def test_every_split_holds_its_quota_and_dataset_info_records_version_2(synth_v2):
    root, report = synth_v2
    samples = read_manifest(root).samples
    quotas = {"train": "n_train", "val": "n_val", "test": "n_test", "test-novel": "n_test_novel",
              "test-robust": "n_test_robust"}  # fmt: skip
    for split, field in quotas.items():
        assert sum(s.split == split for s in samples) == V2_SMALL[field] == report.queries_per_split[split]
    info = read_dataset_info(root)
    assert info["version"] == "2.0.0" and info["generator"]["config"]["version"] == 2
    assert set(info["splits"]) == set(ALL_SPLITS)
    assert info["language"]["inventory"] == inventory()
    assert set(info["query_check"]["per_split"]) == set(ALL_SPLITS)
    assert sum(info["language"]["frames_used"].values()) == len(samples)
    for s in samples:
        assert s.image_b.endswith(".jpg") == (s.split == "test-robust")


def test_same_seed_same_bytes_for_one_or_two_workers(tmp_path):
    first, again, parallel = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_dataset(first, SynthConfig(seed=9, **SMALL))
    generate_dataset(again, SynthConfig(seed=9, **SMALL))
    generate_dataset(parallel, SynthConfig(seed=9, workers=2, **SMALL))
    reference = _all_bytes(first)
    assert {p.split("/")[0] for p in reference} == {"images", "masks", "manifest.jsonl", "dataset.json"}
    assert _all_bytes(again) == reference
    assert _all_bytes(parallel) == reference


def test_version_2_draws_the_same_scenes_as_version_1():
    v1, v2 = SynthConfig(version=1, min_size=256, max_size=288), SynthConfig(min_size=256, max_size=288)
    for index in range(6):
        old, new = build_pair(pair_rng(4, "test", index), v1), _build(4, "test", index, v2)
        assert np.array_equal(old.image_a, new.image_a) and np.array_equal(old.image_b, new.image_b)
        assert [d.box for d in old.differences] == [d.box for d in new.differences]


def test_robust_split_has_nuisance_and_masks_cover_exactly_the_edited_objects(synth_v2):
    root, _ = synth_v2
    config = SynthConfig(seed=SEED, **V2_SMALL)
    robust = [s for s in read_manifest(root).samples if s.split == "test-robust"]
    pair_ids = sorted({s.pair_id for s in robust})
    for pair_id in pair_ids:
        index = int(pair_id.rsplit("-", 1)[1])
        pair = _build(SEED, "test-robust", index, config)
        clean = build_pair(pair_rng(SEED, "test-robust", index), config)  # same scene, no nuisance
        params = pair.robust
        assert isinstance(params, NuisanceParams) and np.array_equal(pair.image_a, clean.image_a)
        samples = [s for s in robust if s.pair_id == pair_id]
        assert samples[0].attributes["robust"] == params.to_dict()
        a, b = _load(root, samples[0].image_a), _load(root, samples[0].image_b)
        edited = np.zeros(a.shape[:2], dtype=bool)
        for ours, plain in zip(pair.differences, clean.differences, strict=True):
            # The clean change mask is exactly the edited object's pixels that differ between A and B.
            assert np.array_equal(plain.mask, plain.footprint & np.any(clean.image_a != clean.image_b, axis=2))
            assert np.array_equal(ours.mask, warp_mask(plain.mask, params))
            assert ours.box == tight_box(warp_mask(plain.footprint, params))
            edited |= warp_mask(plain.footprint, params) | plain.footprint
        for s in samples:
            k = int(s.id.rsplit("-d", 1)[1])
            assert np.array_equal(_load(root, s.mask_b) > 0, pair.differences[k].mask)
            assert tuple(s.box) == pair.differences[k].box
        # Nowhere-edited pixels still differ: the nuisance is there, not only in the edits.
        unchanged = ~edited
        gap = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)[unchanged]
        assert gap.mean() > 2.0 and (gap > 0).mean() > 0.6
        shift = np.hypot(*params.shift_px)
        assert 0.25 <= shift <= 3.0 + 1e-6 and abs(params.exposure_ev) >= 0.1 and params.read_sigma >= 1.0
        assert 60 <= params.jpeg_quality <= 92


def test_nuisance_is_photometric_noisy_and_deterministic():
    params = NuisanceParams((0.0, 0.0), 0.0, 0.4, (1.05, 1.0, 0.95), 1.0, 2.0, 0.0, 90)
    table = photometric_table(params)
    assert table[128, 0] > table[128, 1] > table[128, 2] > 128  # brighter, warmer
    image = np.full((64, 64, 3), 128, dtype=np.uint8)
    out = render_nuisance(image, params, np.random.default_rng(0))
    assert out.std() > 1.0 and abs(float(out[..., 1].mean()) - table[128, 1]) < 1.0
    assert np.array_equal(out, render_nuisance(image, params, np.random.default_rng(0)))


def test_robust_train_fraction_mixes_nuisance_pairs_into_train_only(tmp_path):
    fields = dict(SMALL, n_train=24, n_test_novel=0, n_test_robust=0)
    generate_dataset(tmp_path / "mixed", SynthConfig(seed=3, robust_train_fraction=0.5, **fields))
    generate_dataset(tmp_path / "clean", SynthConfig(seed=3, **fields))
    mixed = read_manifest(tmp_path / "mixed").samples
    robust_pairs = {s.pair_id for s in mixed if "robust" in s.attributes}
    assert 0 < len(robust_pairs) < len({s.pair_id for s in mixed if s.split == "train"})
    assert all(s.split == "train" and s.image_b.endswith(".jpg") for s in mixed if s.pair_id in robust_pairs)
    for pair_id in robust_pairs:  # the mixed-in pairs show the clean run's scenes
        rel = f"images/{pair_id}_a.png"
        if (tmp_path / "clean" / rel).exists():
            assert (tmp_path / "mixed" / rel).read_bytes() == (tmp_path / "clean" / rel).read_bytes()
    info = json.loads((tmp_path / "mixed" / "dataset.json").read_text())
    assert info["generator"]["config"]["robust_train_fraction"] == 0.5
