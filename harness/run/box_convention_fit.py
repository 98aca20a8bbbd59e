"""The per-axis line fit of the box-convention self-check: predicted against true box coordinates.

For each axis the fit is ordinary least squares over both edges of every answered box,
`pred = scale * true + offset` (x1 and x2 for x, y1 and y2 for y), in pixels of B. A model that
answers in the frame its prompt declares gives scale 1 and offset 0 up to its boxing error; a grid
read as pixels, or pixels of a resized input, shows as a scale away from 1; a frame shifted by a
border or a canvas seam shows as an offset. The offset is also given as a fraction of the image
side on that axis (the median side over the answered probes, since they differ in size), and R^2
says how much of the spread of the predicted coordinates the line explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_COORDINATES = 4
"""Two boxes at least (each gives two coordinates per axis); fewer leave the line undetermined."""


@dataclass(frozen=True)
class AxisFit:
    axis: str  # "x" or "y"
    n: int  # coordinates fitted: two per answered box
    scale: float
    offset_px: float
    offset_fraction: float  # offset_px / the median image side on this axis
    r2: float  # 1 - residual / total sum of squares of the predicted coordinates (0 when they do not vary)
    rms_px: float  # root mean square residual, pixels

    def to_json(self) -> dict[str, Any]:
        return {
            "axis": self.axis,
            "n": self.n,
            "scale": round(self.scale, 4),
            "offset_px": round(self.offset_px, 2),
            "offset_fraction": round(self.offset_fraction, 4),
            "r2": round(self.r2, 4),
            "rms_px": round(self.rms_px, 2),
        }


def signed(value: float, digits: int = 1, suffix: str = "") -> str:
    """`value` with its sign and `digits` decimals, never "-0.0"."""
    return f"{round(value, digits) + 0.0:+.{digits}f}{suffix}"


def fit_axis(axis: str, true: np.ndarray, pred: np.ndarray, sides: np.ndarray) -> AxisFit | None:
    """The least-squares line of `pred` on `true` (equal-length 1-D arrays, pixels); `sides` are the
    image sides on this axis, one per coordinate. None when there are too few coordinates or the
    true ones do not vary (no line is determined)."""
    true = np.asarray(true, dtype=np.float64).reshape(-1)
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    if len(true) < MIN_COORDINATES or len(true) != len(pred) or np.ptp(true) == 0:
        return None
    design = np.stack([true, np.ones_like(true)], axis=1)
    (scale, offset), *_ = np.linalg.lstsq(design, pred, rcond=None)
    residual = pred - (scale * true + offset)
    ss_res = float(residual @ residual)
    ss_tot = float(((pred - pred.mean()) ** 2).sum())
    side = float(np.median(np.asarray(sides, dtype=np.float64)))
    return AxisFit(
        axis=axis,
        n=len(true),
        scale=float(scale),
        offset_px=float(offset),
        offset_fraction=float(offset) / side if side > 0 else 0.0,
        r2=1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0,
        rms_px=float(np.sqrt(ss_res / len(true))),
    )


def fit_boxes(true_boxes: np.ndarray, pred_boxes: np.ndarray, sizes: np.ndarray) -> tuple[AxisFit | None, ...]:
    """(x fit, y fit) of predicted against true boxes (N, 4 each, xyxy) of images of `sizes` (N, 2)."""
    true_boxes = np.asarray(true_boxes, dtype=np.float64).reshape(-1, 4)
    pred_boxes = np.asarray(pred_boxes, dtype=np.float64).reshape(-1, 4)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    fits = []
    for axis, columns, side in (("x", [0, 2], sizes[:, 0]), ("y", [1, 3], sizes[:, 1])):
        fits.append(
            fit_axis(axis, true_boxes[:, columns].reshape(-1), pred_boxes[:, columns].reshape(-1), np.repeat(side, 2))
        )
    return tuple(fits)
