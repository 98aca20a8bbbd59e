"""DiffGround-Synth generation: determinism, worker invariance, splits, manifest validity, folder safety."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.data.manifest import dataset_fingerprint, read_dataset_info, read_manifest
from harness.data.synth import DatasetExistsError, SynthConfig, generate_dataset

TINY = dict(
    n_train=12, n_val=6, n_test=12, n_test_novel=0, n_test_robust=0, min_size=256, max_size=320
)  # as conftest's synth_tiny


def all_file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(synth_tiny, tmp_path):
    first, _ = synth_tiny
    second = tmp_path / "again"
    generate_dataset(second, SynthConfig(seed=0, **TINY))
    assert all_file_bytes(first) == all_file_bytes(second)


def test_worker_count_does_not_change_bytes(synth_tiny, tmp_path):
    first, _ = synth_tiny
    parallel = tmp_path / "two_workers"
    generate_dataset(parallel, SynthConfig(seed=0, workers=2, **TINY))
    assert all_file_bytes(first) == all_file_bytes(parallel)


def test_different_seed_gives_different_data(synth_tiny, tmp_path):
    first, _ = synth_tiny
    other = tmp_path / "seed7"
    generate_dataset(other, SynthConfig(seed=7, **TINY))
    assert (first / "manifest.jsonl").read_bytes() != (other / "manifest.jsonl").read_bytes()
    assert (first / "images/train-00000_a.png").read_bytes() != (other / "images/train-00000_a.png").read_bytes()


def test_split_counts_are_exact_and_pairs_disjoint(synth_tiny):
    root, report = synth_tiny
    samples = read_manifest(root).samples
    for split, quota in (("train", TINY["n_train"]), ("val", TINY["n_val"]), ("test", TINY["n_test"])):
        assert sum(1 for s in samples if s.split == split) == quota
        assert report.queries_per_split[split] == quota
        pairs = {s.pair_id for s in samples if s.split == split}
        assert report.pairs_per_split[split] == len(pairs)
        assert all(p.startswith(f"{split}-") for p in pairs)
    pair_splits = {}
    for s in samples:
        assert pair_splits.setdefault(s.pair_id, s.split) == s.split
        assert s.id.startswith(f"{s.pair_id}-d")
        assert s.image_a == f"images/{s.pair_id}_a.png" and s.image_b == f"images/{s.pair_id}_b.png"
        assert s.mask_b == f"masks/{s.id}.png" and s.source == "diffground-synth"


def test_manifest_validates_and_dataset_info_is_complete(synth_tiny):
    root, report = synth_tiny
    result = read_manifest(root)
    assert result.problems == []
    assert len(result.samples) == report.total_queries
    info = read_dataset_info(root)
    assert info["name"] == "DiffGround-Synth"
    assert info["licence"]["data"] == "CC0-1.0" and "scikit-image" in info["licence"]["note"]
    assert info["generator"]["seed"] == 0 and info["generator"]["config"]["n_train"] == TINY["n_train"]
    assert "workers" not in info["generator"]["config"]
    assert info["splits"]["val"] == {"queries": TINY["n_val"], "pairs": report.pairs_per_split["val"]}
    check = {"rewritten": report.rewritten, "dropped": report.dropped, "trimmed": report.trimmed}
    assert info["query_check"] == {**check, "per_split": report.query_check_per_split}
    for key, total in check.items():
        assert sum(row[key] for row in info["query_check"]["per_split"].values()) == total
    assert info["version"] == info["generator"]["version"] == "2.0.0"
    assert info["fingerprint"] == dataset_fingerprint(root)
    assert "timestamp" not in json.dumps(info).lower()


def test_every_sample_carries_its_attributes(synth_tiny):
    root, _ = synth_tiny
    for s in read_manifest(root).samples:
        attrs = s.attributes
        assert 2 <= attrs["n_differences"] <= 4
        assert attrs["template"]
        if s.edit_type == "appearance":
            assert attrs["edit_subtype"] in {"colour", "texture", "size"}
        assert (attrs["target_before"] is None) == (s.edit_type == "add")
        assert (attrs["target_after"] is None) == (s.edit_type == "remove")
        for state in (attrs["target_before"], attrs["target_after"]):
            assert state is None or set(state) == {"shape", "colour", "texture", "size"}


def test_progress_reports_queries(tmp_path):
    calls = []
    generate_dataset(
        tmp_path / "p", SynthConfig(seed=2, **TINY), progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (30, 30)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_refuses_a_folder_holding_another_dataset(synth_tiny, tmp_path):
    root, _ = synth_tiny
    target = tmp_path / "copy"
    generate_dataset(target, SynthConfig(seed=0, **TINY))
    generate_dataset(target, SynthConfig(seed=0, **TINY))  # same dataset: regenerating is fine
    with pytest.raises(DatasetExistsError, match=str(target)):
        generate_dataset(target, SynthConfig(seed=5, **TINY))
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("not a dataset")
    with pytest.raises(DatasetExistsError):
        generate_dataset(stranger, SynthConfig(seed=0, **TINY))
    generate_dataset(target, SynthConfig(seed=5, **TINY), overwrite=True)
    assert read_dataset_info(target)["generator"]["seed"] == 5
    assert not read_manifest(target).problems


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="min_size"):
        SynthConfig(min_size=400, max_size=300)
    with pytest.raises(ValueError, match="workers"):
        SynthConfig(workers=0)


def test_empty_split_is_allowed(tmp_path):
    config = SynthConfig(
        seed=0, n_train=5, n_val=0, n_test=0, n_test_novel=0, n_test_robust=0, min_size=256, max_size=256
    )
    report = generate_dataset(tmp_path / "e", config)
    assert report.queries_per_split == {"train": 5, "val": 0, "test": 0, "test-novel": 0, "test-robust": 0}
    assert all(p.stat().st_size > 0 for p in Path(tmp_path / "e").rglob("*.png"))
