"""pixel-diff finds known changes, ranks them by change mass, and stays quiet on no change."""

from __future__ import annotations

import numpy as np
import pytest

from idg_adapters.base import PairInput
from idg_adapters.pixel_diff import PixelDiffAdapter

RED = ((10, 8, 26, 24), (210, 40, 40))
SMALL_BLUE = ((44, 4, 54, 14), (40, 60, 220))
BIG_YELLOW = ((20, 40, 60, 75), (230, 220, 40))


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def top(pair: PairInput, **options):
    (prediction,) = PixelDiffAdapter(**options).predict([pair])
    return prediction


@pytest.mark.parametrize("edit", ["remove", "add"])
def test_finds_a_removed_or_added_rectangle(pair_factory, edit: str) -> None:
    with_red, without = [RED, SMALL_BLUE], [SMALL_BLUE]
    rects_a, rects_b = (with_red, without) if edit == "remove" else (without, with_red)
    prediction = top(pair_factory("p", (64, 48), rects_a, rects_b))
    assert len(prediction.boxes) == 1
    assert iou(prediction.boxes[0], RED[0]) > 0.8, prediction.boxes


def test_finds_a_recoloured_rectangle_with_lab_distance(pair_factory) -> None:
    recoloured = (RED[0], (40, 170, 210))
    for distance in ("rgb-max", "lab"):
        prediction = top(pair_factory("p", (64, 48), [RED], [recoloured]), distance=distance)
        assert iou(prediction.boxes[0], RED[0]) > 0.8, (distance, prediction.boxes)


def test_two_changes_ranked_by_mass(pair_factory) -> None:
    prediction = top(pair_factory("p", (80, 80), [SMALL_BLUE, BIG_YELLOW], []))
    assert len(prediction.boxes) == 2
    assert iou(prediction.boxes[0], BIG_YELLOW[0]) > 0.8
    assert iou(prediction.boxes[1], SMALL_BLUE[0]) > 0.8
    assert prediction.scores[0] > prediction.scores[1] > 0


def test_no_change_gives_no_boxes(pair_factory) -> None:
    prediction = top(pair_factory("p", (64, 48), [RED, SMALL_BLUE], [RED, SMALL_BLUE]))
    assert prediction.boxes.shape == (0, 4) and prediction.scores.shape == (0,)
    assert prediction.error is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_robust_to_sensor_noise(scene, seed: int) -> None:
    size = (80, 80)
    # Independent noise of sigma 6/255 in A and B: the floor must keep it from becoming boxes.
    a = scene(size, [SMALL_BLUE, BIG_YELLOW], noise_sigma=6.0, noise_seed=seed)
    b_same = scene(size, [SMALL_BLUE, BIG_YELLOW], noise_sigma=6.0, noise_seed=seed + 100)
    b_removed = scene(size, [SMALL_BLUE], noise_sigma=6.0, noise_seed=seed + 200)
    assert len(top(PairInput("same", a, b_same, "")).boxes) == 0
    prediction = top(PairInput("removed", a, b_removed, ""))
    assert len(prediction.boxes) == 1
    assert iou(prediction.boxes[0], BIG_YELLOW[0]) > 0.8


def test_change_touching_the_border_reaches_the_frame(pair_factory) -> None:
    corner = ((0, 0, 20, 15), (250, 250, 250))
    prediction = top(pair_factory("p", (64, 48), [], [corner]))
    np.testing.assert_array_equal(prediction.boxes[0], [0, 0, 20, 15])


def test_min_area_and_max_boxes(pair_factory) -> None:
    pair = pair_factory("p", (80, 80), [SMALL_BLUE, BIG_YELLOW], [])
    assert len(top(pair, min_area=500).boxes) == 1  # the 10x10 change is dropped, the 40x35 kept
    assert len(top(pair, max_boxes=1).boxes) == 1
    assert len(top(pair, max_boxes=0).boxes) == 0


def test_returns_the_binary_change_mask(pair_factory) -> None:
    prediction = top(pair_factory("p", (64, 48), [RED], []))
    assert prediction.mask is not None and prediction.mask.shape == (48, 64)
    assert prediction.mask.dtype == bool
    assert prediction.mask[16, 18] and not prediction.mask[40, 60]


def test_ignores_the_query(pair_factory) -> None:
    one = top(pair_factory("p", (64, 48), [RED], [], query="left"))
    other = top(pair_factory("p", (64, 48), [RED], [], query="something else entirely"))
    np.testing.assert_array_equal(one.boxes, other.boxes)


def test_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="distance"):
        PixelDiffAdapter(distance="cosine")
    with pytest.raises(ValueError, match="min_area"):
        PixelDiffAdapter(min_area=-1)
