"""cd-siamese: the committed checkpoint loads, reproduces its recorded val score, and returns a
binary change mask in B's frame; missing weights make it unavailable with the fix."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.data.synth import SynthConfig, generate_dataset
from harness.training.cd_siamese_task import change_counts, change_scores
from harness.training.change_pairs import change_pairs, load_native
from idg_adapters.base import AdapterUnavailable, PairInput
from idg_adapters.cd_siamese import DEFAULT_WEIGHTS, SiameseChangeDetectorAdapter
from idg_adapters.checkpoint_files import CHECKPOINT_DIR
from tests.adapters.conftest import RED, YELLOW, draw_scene

PROVENANCE = CHECKPOINT_DIR / Path(DEFAULT_WEIGHTS).with_suffix(".json")


@pytest.fixture(scope="module")
def adapter() -> SiameseChangeDetectorAdapter:
    instance = SiameseChangeDetectorAdapter()
    instance.load("cpu")
    return instance


def test_committed_checkpoint_is_small_and_has_provenance() -> None:
    weights = CHECKPOINT_DIR / DEFAULT_WEIGHTS
    assert weights.stat().st_size < 2_000_000
    provenance = json.loads(PROVENANCE.read_text())
    for key in ("config", "command", "git_sha", "dataset", "seed", "val", "model", "reference_pairs"):
        assert key in provenance, key
    assert provenance["weights_dtype"] == "float16"


def test_committed_checkpoint_reproduces_its_reference_val_score(
    adapter: SiameseChangeDetectorAdapter, tmp_path: Path
) -> None:
    # Pair seeds derive from (seed, split, index): generating only the first val pairs gives the
    # same files as the full DiffGround-Synth the checkpoint was validated on.
    provenance = json.loads(PROVENANCE.read_text())
    reference = provenance["reference_pairs"]
    synth = provenance["config"]["task_options"]
    assert synth.get("max_val_pairs") is None, "the reference pairs are the first val pairs of the full split"
    root = tmp_path / "val"
    generate_dataset(root, SynthConfig(version=1, seed=0, n_train=0, n_val=70, n_test=0))
    pairs = change_pairs(root, "val")[: len(reference)]
    assert [pair.pair_id for pair in pairs] == reference
    tp = fp = fn = 0
    for pair in pairs:
        image_a, image_b, target = load_native(root, pair)
        (prediction,) = adapter.predict([PairInput(pair.pair_id, image_a, image_b, "")])
        counts = change_counts(prediction.mask, target)
        tp, fp, fn = tp + counts[0], fp + counts[1], fn + counts[2]
    iou = change_scores(tp, fp, fn)["iou"]
    assert iou == pytest.approx(provenance["val"]["reference_iou"], abs=2e-3)


def test_mask_is_the_binary_decision_and_boxes_follow_it(adapter: SiameseChangeDetectorAdapter) -> None:
    pair = PairInput("p", draw_scene((96, 64), [RED]), draw_scene((96, 64), [RED, YELLOW]), "q")
    (prediction,) = adapter.predict([pair])
    assert prediction.mask.dtype == bool and prediction.mask.shape == (64, 96)
    probability = adapter.change_probability(pair)
    np.testing.assert_array_equal(prediction.mask, probability > 0.5)
    assert len(prediction.boxes) >= 1
    x1, y1, x2, y2 = prediction.boxes[0]
    (yx1, yy1, yx2, yy2), _ = YELLOW
    assert x1 < yx2 and yx1 < x2 and y1 < yy2 and yy1 < y2, "the top box overlaps the added rectangle"


def test_unavailable_without_weights(tmp_path: Path) -> None:
    with pytest.raises(AdapterUnavailable, match="not found") as info:
        SiameseChangeDetectorAdapter(weights=str(tmp_path / "none.safetensors")).load("cpu")
    assert "harness train cd-siamese" in info.value.how_to_enable


def test_provenance_without_a_model_is_refused(tmp_path: Path) -> None:
    weights = tmp_path / "cut-short.safetensors"
    weights.write_bytes((CHECKPOINT_DIR / DEFAULT_WEIGHTS).read_bytes())
    weights.with_suffix(".json").write_text("{}\n")
    with pytest.raises(AdapterUnavailable, match="no 'model' entry"):
        SiameseChangeDetectorAdapter(weights=str(weights)).load("cpu")


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        SiameseChangeDetectorAdapter(threshold=1.5)
