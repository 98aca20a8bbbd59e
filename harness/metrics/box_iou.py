"""IoU of xyxy boxes in continuous pixel coordinates (area = w * h, no +1): paired (row i with row i)
and pairwise (every box with every other), the hit threshold of every top-1 metric, and the top-1
box of a ranked prediction."""

from __future__ import annotations

import numpy as np

HIT_IOU = 0.5
"""A sample is a hit when its top-1 box has IoU >= HIT_IOU with the target (Acc@0.5)."""
LOOSE_IOU = 0.1
"""Below this IoU with the target a box has not found the target at all (failure taxonomy)."""


def top1_boxes(boxes_per_sample: list, usable: list[bool] | None = None) -> np.ndarray:
    """(N, 4): the first (best) box of each sample's ranked boxes, NaN where it has none or is not usable."""
    top = np.full((len(boxes_per_sample), 4), np.nan)
    for i, boxes in enumerate(boxes_per_sample):
        if len(boxes) and (usable is None or usable[i]):
            top[i] = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[0]
    return top


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


def box_iou_matrix(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Pairwise IoU (len(boxes), len(others)) of xyxy boxes; 0 where a union is empty."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    others = np.asarray(others, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(boxes[:, None, :2], others[None, :, :2])
    rb = np.minimum(boxes[:, None, 2:], others[None, :, 2:])
    inter = np.prod((rb - lt).clip(min=0.0), axis=-1)
    area = np.prod((boxes[:, 2:] - boxes[:, :2]).clip(min=0.0), axis=-1)
    area_o = np.prod((others[:, 2:] - others[:, :2]).clip(min=0.0), axis=-1)
    union = area[:, None] + area_o[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
