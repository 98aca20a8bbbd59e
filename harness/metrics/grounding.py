"""Point estimates of the grounding metrics from per-sample IoU: Acc@tau, mIoU and cIoU."""

from __future__ import annotations

import numpy as np


def accuracy_at(iou: np.ndarray, tau: float) -> float:
    """Share of samples whose top-1 IoU is at least `tau`; NaN for no samples."""
    return float(np.mean(iou >= tau)) if len(iou) else float("nan")


def mean_iou(iou: np.ndarray) -> float:
    """Mean per-sample IoU (misses count as 0); NaN for no samples."""
    return float(np.mean(iou)) if len(iou) else float("nan")


def cumulative_iou(inter: np.ndarray, union: np.ndarray) -> float:
    """Sum of intersections over sum of unions, as in referring segmentation; NaN if the unions sum to 0."""
    total_union = float(np.sum(union))
    return float(np.sum(inter)) / total_union if total_union > 0 else float("nan")
