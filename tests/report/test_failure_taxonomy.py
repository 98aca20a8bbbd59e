"""The failure taxonomy: the rule's order of checks, and per-sample classes from real predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.data.synth import SynthConfig, generate_dataset
from harness.report.failure_taxonomy import (
    ERROR,
    HIT,
    LOOSE_BOX,
    NO_PREDICTION,
    OFF_TARGET,
    UNCHANGED_REGION,
    WRONG_DIFFERENCE,
    classify_outcome,
)
from harness.report.per_sample import ChangedPixels, RunDataset, model_sample_results
from harness.report.runs import LoadedRun
from harness.run.run_records import DatasetRecord, RunInfo, RunSettings, RunStatus


def _classify(**kw) -> str:
    args = {"error": False, "has_box": True, "iou": 0.0, "best_other_iou": 0.0, "touches_change": False}
    return classify_outcome(**{**args, **kw})


def test_order_of_checks() -> None:
    assert _classify(error=True, iou=0.9) == ERROR
    assert _classify(has_box=False) == NO_PREDICTION
    assert _classify(iou=0.5, best_other_iou=0.9) == HIT
    assert _classify(iou=0.3, best_other_iou=0.5) == WRONG_DIFFERENCE
    assert _classify(iou=0.1, best_other_iou=0.49) == LOOSE_BOX
    assert _classify(iou=0.09) == UNCHANGED_REGION
    assert _classify(iou=0.09, touches_change=True) == OFF_TARGET


def _fake_run(tmp_path: Path, dataset: Path, model: str, predictions: dict[str, dict]) -> LoadedRun:
    run_dir = tmp_path / "run"
    (run_dir / model).mkdir(parents=True)
    lines = [json.dumps({"id": i, "sample_fp": "x", **p}) for i, p in sorted(predictions.items())]
    (run_dir / model / "predictions.jsonl").write_text("\n".join(lines) + "\n")
    info = RunInfo(
        run_id="r",
        status=RunStatus.COMPLETE,
        created="",
        argv=[],
        config=RunSettings(models=[model], split="test", dataset=str(dataset)),
        dataset=DatasetRecord(name="tiny", version=None, fingerprint="0" * 64, n_samples=len(predictions)),
        environment={},
    )
    return LoadedRun(run_dir=run_dir, info=info, models=[])


def test_classes_on_the_tiny_dataset_use_target_boxes_without_masks(tiny_dataset: Path, tmp_path: Path) -> None:
    # Pair test-000: removed box (6, 8, 27, 31) is d0, added box (46, 30, 71, 57) is d1; no masks.
    predictions = {
        "test-000-d0": {"boxes": [[46, 30, 71, 57]], "scores": [1.0]},  # the other difference
        "test-000-d1": {"boxes": [[46, 30, 71, 57]], "scores": [1.0]},  # hit
        "test-001-d0": {"boxes": [[7, 9, 14, 18]], "scores": [1.0]},  # inside the target, IoU ~0.13
        "test-001-d1": {"boxes": [[0, 58, 4, 63]], "scores": [1.0]},  # background corner
        "test-002-d0": {"boxes": [[20, 20, 60, 40]], "scores": [1.0]},  # spans both differences
        "test-002-d1": {"boxes": [], "scores": [], "error": "boom"},
    }
    run = _fake_run(tmp_path, tiny_dataset, "m", predictions)
    dataset = RunDataset.for_run(run)
    results = {r.id: r for r in model_sample_results(run, "m", dataset)}
    assert results["test-000-d0"].failure == WRONG_DIFFERENCE
    assert results["test-000-d1"].failure == HIT
    assert results["test-001-d0"].failure == LOOSE_BOX
    assert results["test-001-d1"].failure == UNCHANGED_REGION
    assert results["test-002-d0"].failure == OFF_TARGET
    assert results["test-002-d1"].failure == ERROR
    assert results["test-000-d0"].others == [(46.0, 30.0, 71.0, 57.0)]


@pytest.fixture(scope="module")
def synth_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "ds"
    generate_dataset(root, SynthConfig(n_train=0, n_val=0, n_test=12, n_test_novel=0, n_test_robust=0, max_size=256))
    return root


def test_change_masks_decide_unchanged_region(synth_dataset: Path, tmp_path: Path) -> None:
    run = _fake_run(tmp_path, synth_dataset, "m", {})
    dataset = RunDataset.for_run(run)
    sample = next(s for s in dataset.samples.values() if s.mask_b)
    changed = ChangedPixels(dataset)
    x1, y1, x2, y2 = sample.box
    # The target box holds changed pixels; a 2x2 box in a corner of the box may not (shapes are not boxes).
    assert changed.touches(sample.pair_id, sample.box)
    mask_union = changed._union_mask(sample.pair_id)
    assert mask_union is not None and mask_union.any()
    empty = [
        (x, y)
        for y in range(0, mask_union.shape[0] - 2, 8)
        for x in range(0, mask_union.shape[1] - 2, 8)
        if not mask_union[y : y + 2, x : x + 2].any()
    ]
    x, y = empty[0]
    assert not changed.touches(sample.pair_id, (x, y, x + 2, y + 2))


def test_change_masks_cache_stays_under_its_byte_bound(synth_dataset: Path, tmp_path: Path) -> None:
    run = _fake_run(tmp_path, synth_dataset, "m", {})
    dataset = RunDataset.for_run(run)
    pair_ids = [p for p, members in dataset.pairs.items() if all(s.mask_b for s in members)]
    one_mask = ChangedPixels(dataset)._union_mask(pair_ids[0]).nbytes
    changed = ChangedPixels(dataset, max_cached_bytes=2 * one_mask)
    for pair_id in pair_ids:
        changed._union_mask(pair_id)
        assert changed._cached_bytes <= 2 * one_mask or len(changed._masks) == 1
    assert 1 <= len(changed._masks) <= 2 and len(pair_ids) > 2
    assert changed._cached_bytes == sum(m.nbytes for m in changed._masks.values() if m is not None)
