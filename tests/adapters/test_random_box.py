"""random-box is seeded per (seed, sample id): reproducible across processes, varied across samples."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from adapters.random_box import RandomBoxAdapter


def test_k_boxes_with_descending_scores(pair_factory) -> None:
    (prediction,) = RandomBoxAdapter(num_boxes=7).predict([pair_factory("p", (64, 48), [], [])])
    assert prediction.boxes.shape == (7, 4)
    assert (np.diff(prediction.scores) <= 0).all()
    widths = prediction.boxes[:, 2] - prediction.boxes[:, 0]
    assert (widths >= 0.05 * 64 - 1e-9).all() and (widths <= 0.5 * 64 + 1e-9).all()


def test_depends_on_seed_and_sample_id_only(pair_factory) -> None:
    pair = pair_factory("p", (64, 48), [], [])
    same_id_other_images = pair_factory("p", (64, 48), [((0, 0, 9, 9), (255, 0, 0))], [], query="other")
    base = RandomBoxAdapter().predict([pair])[0].boxes
    np.testing.assert_array_equal(RandomBoxAdapter().predict([same_id_other_images])[0].boxes, base)
    assert not np.array_equal(RandomBoxAdapter(seed=1).predict([pair])[0].boxes, base)
    assert not np.array_equal(RandomBoxAdapter().predict([pair_factory("q", (64, 48), [], [])])[0].boxes, base)


def test_same_boxes_in_a_fresh_process(pair_factory) -> None:
    # Guards against seeding from Python's hash(), which is salted per process.
    (prediction,) = RandomBoxAdapter().predict([pair_factory("sample-42", (64, 48), [], [])])
    script = (
        "import json; from PIL import Image; from adapters.base import PairInput;"
        "from adapters.random_box import RandomBoxAdapter;"
        "img = Image.new('RGB', (64, 48));"
        "print(json.dumps(RandomBoxAdapter().predict([PairInput('sample-42', img, img, '')])[0].boxes.tolist()))"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    np.testing.assert_array_equal(np.array(json.loads(out)), prediction.boxes)


def test_zero_boxes_allowed(pair_factory) -> None:
    (prediction,) = RandomBoxAdapter(num_boxes=0).predict([pair_factory("p", (64, 48), [], [])])
    assert prediction.boxes.shape == (0, 4)


def test_rejects_bad_fractions() -> None:
    with pytest.raises(ValueError, match="min_fraction"):
        RandomBoxAdapter(min_fraction=0.6, max_fraction=0.5)
