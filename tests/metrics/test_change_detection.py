"""Pixel-level change metrics against a direct confusion-matrix computation."""

from __future__ import annotations

import numpy as np
import pytest

from harness.metrics.change_detection import change_confusion, pixel_change_metrics


def _direct(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """2x2 confusion matrix by explicit loops: rows = true (0, 1), columns = predicted (0, 1)."""
    matrix = np.zeros((2, 2), dtype=np.int64)
    for t, p in zip(true.ravel(), pred.ravel(), strict=True):
        matrix[int(t), int(p)] += 1
    return matrix


def test_accumulated_over_the_split_not_averaged() -> None:
    rng = np.random.default_rng(0)
    preds = [rng.random((17, 23)) > 0.6 for _ in range(5)]
    trues = [rng.random((17, 23)) > 0.7 for _ in range(5)]
    counts = np.array([change_confusion(p, t) for p, t in zip(preds, trues, strict=True)])
    matrix = sum(_direct(p, t) for p, t in zip(preds, trues, strict=True))
    tn, fp, fn, tp = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
    got = pixel_change_metrics(counts)
    assert (got["tp"], got["fp"], got["fn"], got["tn"]) == (tp, fp, fn, tn)
    assert got["precision"] == pytest.approx(tp / (tp + fp))
    assert got["recall"] == pytest.approx(tp / (tp + fn))
    assert got["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert got["iou"] == pytest.approx(tp / (tp + fp + fn))
    per_image_f1 = np.mean([pixel_change_metrics(np.array([c]))["f1"] for c in counts])
    assert got["f1"] != pytest.approx(per_image_f1), "must not be a mean of per-image scores"


def test_empty_cases_are_none_and_shapes_must_match() -> None:
    nothing = pixel_change_metrics(np.array([change_confusion(np.zeros((4, 4)), np.zeros((4, 4)))]))
    assert nothing["precision"] is None and nothing["f1"] is None and nothing["tn"] == 16
    with pytest.raises(ValueError, match="shapes differ"):
        change_confusion(np.zeros((2, 3)), np.zeros((3, 2)))
