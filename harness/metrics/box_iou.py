"""Elementwise IoU of paired xyxy boxes in continuous pixel coordinates (area = w * h, no +1)."""

from __future__ import annotations

import numpy as np


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Area of (N, 4) xyxy boxes; inverted sides count as zero width/height, not negative area."""
    boxes = np.asarray(boxes, dtype=np.float64)
    width = np.clip(boxes[:, 2] - boxes[:, 0], 0.0, None)
    height = np.clip(boxes[:, 3] - boxes[:, 1], 0.0, None)
    return width * height


def paired_box_iou(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IoU, intersection and union of row i of `pred` with row i of `target`, both (N, 4) xyxy.

    A pred row containing NaN means "no prediction": IoU 0, intersection 0, union = target area
    (so cIoU charges a miss its whole target). A union of 0 (two zero-area boxes) gives IoU 0
    rather than the NaN that torchvision.ops.box_iou returns.
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    target = np.asarray(target, dtype=np.float64).reshape(-1, 4)
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} must both be (N, 4) with the same N")
    missing = np.isnan(pred).any(axis=1)
    pred = np.where(missing[:, None], 0.0, pred)

    width = np.clip(np.minimum(pred[:, 2], target[:, 2]) - np.maximum(pred[:, 0], target[:, 0]), 0.0, None)
    height = np.clip(np.minimum(pred[:, 3], target[:, 3]) - np.maximum(pred[:, 1], target[:, 1]), 0.0, None)
    inter = np.where(missing, 0.0, width * height)
    union = np.where(missing, 0.0, box_area(pred)) + box_area(target) - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou, inter, union
