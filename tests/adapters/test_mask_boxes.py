"""mask_to_boxes against hand-made masks: touching blobs, holes, one-pixel noise, ranking."""

from __future__ import annotations

import numpy as np
import pytest

from idg_adapters.mask_boxes import mask_to_boxes


def canvas(height: int = 20, width: int = 30) -> np.ndarray:
    return np.zeros((height, width))


def test_one_blob_box_is_on_pixel_edges() -> None:
    probability = canvas()
    probability[2:6, 3:10] = 0.8
    boxes, scores = mask_to_boxes(probability, min_area=1)
    np.testing.assert_array_equal(boxes, [[3, 2, 10, 6]])
    np.testing.assert_allclose(scores, [0.8])


def test_single_pixel_box() -> None:
    probability = canvas()
    probability[4, 7] = 1.0
    boxes, _ = mask_to_boxes(probability, min_area=1)
    np.testing.assert_array_equal(boxes, [[7, 4, 8, 5]])


def test_blobs_sharing_an_edge_are_one_component() -> None:
    probability = canvas()
    probability[2:6, 2:6] = 0.9
    probability[2:6, 6:12] = 0.7  # touches the first along a whole column
    boxes, scores = mask_to_boxes(probability, min_area=1)
    np.testing.assert_array_equal(boxes, [[2, 2, 12, 6]])
    np.testing.assert_allclose(scores, [(16 * 0.9 + 24 * 0.7) / 40])


def test_diagonally_touching_blobs_join_under_8_connectivity() -> None:
    probability = canvas()
    probability[2:5, 2:5] = 0.9
    probability[5:8, 5:8] = 0.9  # meets the first only at a corner
    boxes, _ = mask_to_boxes(probability, min_area=1)
    np.testing.assert_array_equal(boxes, [[2, 2, 8, 8]])


def test_separated_blobs_are_ranked_by_mean_probability() -> None:
    probability = canvas()
    probability[1:4, 1:4] = 0.6
    probability[10:18, 15:28] = 0.55  # bigger but less sure
    probability[10:13, 2:5] = 0.95
    boxes, scores = mask_to_boxes(probability, min_area=1)
    np.testing.assert_array_equal(boxes, [[2, 10, 5, 13], [1, 1, 4, 4], [15, 10, 28, 18]])
    assert list(scores) == sorted(scores, reverse=True)


def test_a_ring_is_one_component_whose_box_covers_the_hole() -> None:
    probability = canvas()
    probability[3:13, 5:15] = 0.9
    probability[5:11, 7:13] = 0.0  # the hole
    boxes, scores = mask_to_boxes(probability, min_area=1)
    np.testing.assert_array_equal(boxes, [[5, 3, 15, 13]])
    np.testing.assert_allclose(scores, [0.9])  # the hole's pixels are not part of the mean


def test_one_pixel_noise_is_dropped_by_min_area() -> None:
    probability = canvas()
    probability[10:15, 10:15] = 0.7
    for y, x in [(0, 0), (2, 25), (18, 3)]:
        probability[y, x] = 1.0
    boxes, _ = mask_to_boxes(probability, min_area=4)
    np.testing.assert_array_equal(boxes, [[10, 10, 15, 15]])
    assert len(mask_to_boxes(probability, min_area=1)[0]) == 4


def test_threshold_is_strict_and_empty_maps_give_no_boxes() -> None:
    probability = np.full((5, 5), 0.5)
    assert mask_to_boxes(probability, threshold=0.5)[0].shape == (0, 4)
    assert mask_to_boxes(np.zeros((0, 0)))[0].shape == (0, 4)
    boxes, scores = mask_to_boxes(np.ones((5, 5)), min_area=1)
    np.testing.assert_array_equal(boxes, [[0, 0, 5, 5]])


def test_ties_keep_scan_order() -> None:
    probability = canvas()
    probability[10:13, 1:4] = 0.8
    probability[1:4, 20:23] = 0.8
    boxes, _ = mask_to_boxes(probability, min_area=1)
    np.testing.assert_array_equal(boxes, [[20, 1, 23, 4], [1, 10, 4, 13]])


def test_rejects_non_2d_maps() -> None:
    with pytest.raises(ValueError, match="2-D"):
        mask_to_boxes(np.zeros((2, 3, 4)))
