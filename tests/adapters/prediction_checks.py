"""Checks every adapter's predictions must pass: valid boxes in B's frame, and equal answers.

Shared by the registry-wide contract test and the family tests that load adapters with local weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from idg_adapters.base import PairInput, Prediction


def assert_valid(prediction: Any, pair: PairInput) -> None:
    assert isinstance(prediction, Prediction), f"{pair.id}: got {type(prediction).__name__}, not a Prediction"
    boxes, scores = prediction.boxes, prediction.scores
    assert isinstance(boxes, np.ndarray) and boxes.dtype.kind == "f", f"{pair.id}: boxes must be a float array"
    assert boxes.ndim == 2 and boxes.shape[1] == 4, f"{pair.id}: boxes shape {boxes.shape}, want (N, 4)"
    assert scores.shape == (len(boxes),), f"{pair.id}: scores shape {scores.shape}, want ({len(boxes)},)"
    assert np.isfinite(boxes).all() and np.isfinite(scores).all(), f"{pair.id}: non-finite boxes or scores"
    if prediction.error is not None:
        assert isinstance(prediction.error, str) and prediction.error, f"{pair.id}: error must be a message"
        assert len(boxes) == 0, f"{pair.id}: a failed prediction carries no boxes"
    width, height = pair.size
    x1, y1, x2, y2 = boxes.T
    assert (x1 >= 0).all() and (y1 >= 0).all(), f"{pair.id}: box starts outside B's frame: {boxes}"
    assert (x2 <= width).all() and (y2 <= height).all(), f"{pair.id}: box ends outside {width}x{height}: {boxes}"
    assert (x1 <= x2).all() and (y1 <= y2).all(), f"{pair.id}: flipped box (want xyxy): {boxes}"
    assert (np.diff(scores) <= 0).all(), f"{pair.id}: scores must be ranked best first: {scores}"
    if prediction.mask is not None:
        assert np.shape(prediction.mask) == (height, width), f"{pair.id}: mask must be (H, W) of B"


def assert_same(got: Prediction, want: Prediction, what: str) -> None:
    # Exact for the CPU baselines; the small tolerance admits batched-GPU float round-off only.
    assert got.error == want.error, what
    assert got.boxes.shape == want.boxes.shape, f"{what}: {got.boxes} vs {want.boxes}"
    np.testing.assert_allclose(got.boxes, want.boxes, rtol=1e-5, atol=1e-4, err_msg=what)
    np.testing.assert_allclose(got.scores, want.scores, rtol=1e-5, atol=1e-6, err_msg=what)
