"""Pixel-level change-detection metrics of the change class, from confusion counts summed over
the whole split (the open-cd / ChangeFormer convention), never a mean of per-image scores."""

from __future__ import annotations

import numpy as np


def change_confusion(predicted: np.ndarray, changed: np.ndarray) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of a binary change decision against the true change mask (same shape)."""
    predicted = np.asarray(predicted, dtype=bool)
    changed = np.asarray(changed, dtype=bool)
    if predicted.shape != changed.shape:
        raise ValueError(f"mask shapes differ: predicted {predicted.shape}, true {changed.shape}")
    tp = int(np.count_nonzero(predicted & changed))
    fp = int(np.count_nonzero(predicted & ~changed))
    fn = int(np.count_nonzero(~predicted & changed))
    return tp, fp, fn, int(predicted.size) - tp - fp - fn


def pixel_change_metrics(counts: np.ndarray) -> dict[str, float | int | None]:
    """Precision, recall, F1 and IoU of the change class from (P, 4) rows of (tp, fp, fn, tn).

    Values are None where their denominator is zero (e.g. no changed pixel and no prediction).
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(-1, 4)
    tp, fp, fn, tn = (int(v) for v in counts.sum(axis=0))

    def ratio(num: int, den: int) -> float | None:
        return num / den if den else None

    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return {
        "pairs": int(len(counts)),
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "iou": ratio(tp, tp + fp + fn),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }
