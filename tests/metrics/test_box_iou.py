"""paired_box_iou against the diagonal of torchvision.ops.box_iou, plus its own edge cases."""

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from harness.metrics import box_area, paired_box_iou


def random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    corner = rng.uniform(0, 100, (n, 2))
    return np.hstack([corner, corner + rng.uniform(0, 60, (n, 2))])


def special_pairs() -> tuple[np.ndarray, np.ndarray]:
    pairs = [
        ([0, 0, 10, 10], [20, 20, 30, 30]),  # disjoint
        ([0, 0, 10, 10], [10, 0, 20, 10]),  # touching along an edge
        ([0, 0, 10, 10], [10, 10, 20, 20]),  # touching at a corner
        ([0, 0, 10, 10], [0, 0, 10, 10]),  # identical
        ([2, 2, 4, 4], [0, 0, 10, 10]),  # contained
        ([0, 0, 10, 10], [2.5, 2.5, 7.5, 7.5]),  # contains, fractional
        ([5, 5, 5, 9], [0, 0, 10, 10]),  # zero-width pred inside the target
        ([0.5, 0.25, 3.75, 2.0], [1.0, 1.0, 4.0, 3.0]),  # sub-pixel overlap
    ]
    return np.array([p for p, _ in pairs], float), np.array([t for _, t in pairs], float)


def torchvision_diagonal(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return torch.diagonal(box_iou(torch.from_numpy(pred), torch.from_numpy(target))).numpy()


def test_matches_torchvision_diagonal_on_random_and_special_boxes():
    rng = np.random.default_rng(0)
    special_pred, special_target = special_pairs()
    near = random_boxes(rng, 500)
    pred = np.vstack([random_boxes(rng, 2000), near + rng.normal(0, 5, near.shape).clip(-2, 2), special_pred])
    target = np.vstack([random_boxes(rng, 2000), near, special_target])
    pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2])  # keep x2 >= x1, as torchvision assumes
    iou, inter, union = paired_box_iou(pred, target)
    np.testing.assert_allclose(iou, torchvision_diagonal(pred, target), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(union, box_area(pred) + box_area(target) - inter)
    assert (iou == 0).any() and (iou == 1).any() and ((iou > 0) & (iou < 1)).any()


def test_special_cases_by_hand():
    pred, target = special_pairs()
    iou, inter, union = paired_box_iou(pred, target)
    np.testing.assert_allclose(iou[:5], [0, 0, 0, 1, 4 / 100])
    np.testing.assert_allclose(inter[:5], [0, 0, 0, 100, 4])
    np.testing.assert_allclose(union[:5], [200, 200, 200, 100, 100])
    assert iou[6] == 0 and union[6] == 100  # zero-area pred: no overlap area, union is the target


def test_zero_union_gives_zero_not_nan():
    pred = np.array([[3.0, 3, 3, 3], [1, 1, 1, 5]])
    target = np.array([[3.0, 3, 3, 3], [1, 2, 1, 4]])
    iou, inter, union = paired_box_iou(pred, target)
    assert np.isnan(torchvision_diagonal(pred, target)).all()  # what we deliberately differ from
    np.testing.assert_array_equal(iou, [0, 0])
    np.testing.assert_array_equal(union, [0, 0])


def test_nan_prediction_row_is_a_miss_charged_the_target_area():
    pred = np.array([[np.nan] * 4, [0, 0, 4, 4]])
    target = np.array([[0.0, 0, 10, 20], [0, 0, 4, 4]])
    iou, inter, union = paired_box_iou(pred, target)
    np.testing.assert_array_equal(iou, [0, 1])
    np.testing.assert_array_equal(inter, [0, 16])
    np.testing.assert_array_equal(union, [200, 16])


def test_empty_input_and_shape_mismatch():
    iou, inter, union = paired_box_iou(np.zeros((0, 4)), np.zeros((0, 4)))
    assert iou.shape == inter.shape == union.shape == (0,)
    with pytest.raises(ValueError, match="same N"):
        paired_box_iou(np.zeros((2, 4)), np.zeros((3, 4)))
