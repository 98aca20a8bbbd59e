"""random-box is seeded by (seed, query, pixels of A and B): reproducible across processes and sample ids,
varied across pairs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from idg_adapters.base import PairInput
from idg_adapters.random_box import RandomBoxAdapter


def test_k_boxes_with_descending_scores(pair_factory) -> None:
    (prediction,) = RandomBoxAdapter(num_boxes=7).predict([pair_factory("p", (64, 48), [], [])])
    assert prediction.boxes.shape == (7, 4)
    assert (np.diff(prediction.scores) <= 0).all()
    widths = prediction.boxes[:, 2] - prediction.boxes[:, 0]
    assert (widths >= 0.05 * 64 - 1e-9).all() and (widths <= 0.5 * 64 + 1e-9).all()


def test_depends_on_seed_and_content_only(pair_factory) -> None:
    pair = pair_factory("p", (64, 48), [], [])
    base = RandomBoxAdapter().predict([pair])[0].boxes
    # The same content under another id: the prediction cache would serve one answer for both.
    np.testing.assert_array_equal(RandomBoxAdapter().predict([pair_factory("q", (64, 48), [], [])])[0].boxes, base)
    assert not np.array_equal(RandomBoxAdapter(seed=1).predict([pair])[0].boxes, base)
    red = [((0, 0, 9, 9), (255, 0, 0))]
    others = {
        "query": pair_factory("p", (64, 48), [], [], query="other"),
        "image A": pair_factory("p", (64, 48), red, []),
        "image B": pair_factory("p", (64, 48), [], red),
    }
    for what, other in others.items():
        assert not np.array_equal(RandomBoxAdapter().predict([other])[0].boxes, base), f"{what} is not in the seed"


def test_image_shape_is_in_the_seed(scene) -> None:
    # 8x6 and 6x8 images of one colour have the same pixel bytes; their boxes must still differ.
    wide, tall = scene((8, 6)), scene((6, 8))
    assert wide.tobytes() == tall.tobytes()
    (a,) = RandomBoxAdapter().predict([PairInput("p", wide, wide, "")])
    (b,) = RandomBoxAdapter().predict([PairInput("p", tall, tall, "")])
    assert not np.array_equal(a.boxes / [8, 6, 8, 6], b.boxes / [6, 8, 6, 8])


def test_same_boxes_in_a_fresh_process() -> None:
    # Guards against seeding from Python's hash(), which is salted per process.
    image = Image.new("RGB", (64, 48))
    (prediction,) = RandomBoxAdapter().predict([PairInput("sample-42", image, image, "")])
    script = (
        "import json; from PIL import Image; from idg_adapters.base import PairInput;"
        "from idg_adapters.random_box import RandomBoxAdapter;"
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
