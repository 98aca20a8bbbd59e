"""Change probability map -> ranked boxes: one box per connected component of the thresholded map.

Shared by the learned change detectors (`cd-siamese`) and the proposal stage of `cd-rerank-clip`.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
"""Diagonal neighbours join a component: a thin diagonal edge of one object stays one box."""


def mask_to_boxes(probability: np.ndarray, threshold: float = 0.5, min_area: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) and scores (N,) of the 8-connected components of `probability > threshold`.

    Boxes are xyxy on pixel edges (x2/y2 one past the last pixel, as in pixel-diff), so one
    pixel at (x, y) gives [x, y, x+1, y+1]. A component is its outline: holes inside it (a
    ring) belong to its box. Components smaller than `min_area` pixels are noise and dropped.
    Scores are the mean probability over the component's pixels; boxes come ranked by score,
    best first, ties kept in scan order (top-to-bottom, left-to-right by first pixel).
    """
    probability = np.asarray(probability, dtype=np.float64)
    if probability.ndim != 2:
        raise ValueError(f"probability must be a 2-D (H, W) map, got shape {probability.shape}")
    labels, count = ndimage.label(probability > threshold, structure=EIGHT_CONNECTED)
    if count == 0:
        return np.zeros((0, 4)), np.zeros(0)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    sums = np.bincount(labels.ravel(), weights=probability.ravel(), minlength=count + 1)[1:]
    slices = ndimage.find_objects(labels, max_label=count)
    boxes = np.array([(sx.start, sy.start, sx.stop, sy.stop) for sy, sx in slices], dtype=np.float64)
    keep = areas >= max(int(min_area), 1)
    boxes, scores = boxes[keep], sums[keep] / areas[keep]
    order = np.argsort(-scores, kind="stable")
    return boxes[order], scores[order]


__all__ = ["EIGHT_CONNECTED", "mask_to_boxes"]
