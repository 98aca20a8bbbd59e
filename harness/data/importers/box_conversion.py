"""Source boxes to DiffGround boxes (`[x1, y1, x2, y2]`, absolute pixels of B), or a RowRejected why not."""

from __future__ import annotations

import math
from typing import Any

from harness.data.importers.import_report import RowRejected
from harness.data.validate import BOX_TOLERANCE_PX

# Normalised boxes written as rounded decimals may overshoot 0 or 1 by a hair without being wrong.
NORMALISED_TOLERANCE = 1e-3


def four_numbers(value: Any, field: str) -> tuple[float, float, float, float]:
    """The value as four finite floats; numeric strings (CSV cells) are accepted."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise RowRejected(field, f"must be 4 numbers, got {value!r}")
    numbers = []
    for v in value:
        if isinstance(v, bool):
            raise RowRejected(field, f"must hold numbers only, got {value!r}")
        try:
            number = float(v)
        except (TypeError, ValueError):
            raise RowRejected(field, f"must hold numbers only, got {v!r} in {value!r}") from None
        if not math.isfinite(number):
            raise RowRejected(field, f"must hold finite numbers, got {value!r}")
        numbers.append(number)
    return tuple(numbers)  # type: ignore[return-value]


def _check_order(box: tuple[float, float, float, float], field: str) -> None:
    x1, y1, x2, y2 = box
    if x2 <= x1 or y2 <= y1:
        raise RowRejected(field, f"is degenerate or flipped (need x1 < x2 and y1 < y2), got {list(box)}")


def normalised_to_pixels(value: Any, size: tuple[int, int], field: str) -> tuple[float, float, float, float]:
    """`[x1, y1, x2, y2]` in fractions 0-1 of B's width and height -> pixels of B."""
    box = four_numbers(value, field)
    tol = NORMALISED_TOLERANCE
    if any(v < -tol or v > 1 + tol for v in box):
        raise RowRejected(field, f"is normalised but has values outside 0-1: {list(box)}")
    box = tuple(min(1.0, max(0.0, v)) for v in box)  # type: ignore[assignment]
    _check_order(box, field)
    width, height = size
    x1, y1, x2, y2 = box
    return (x1 * width, y1 * height, x2 * width, y2 * height)


def xywh_to_xyxy(value: Any, field: str) -> tuple[float, float, float, float]:
    """COCO `[x, y, width, height]` -> `[x1, y1, x2, y2]` (same pixel frame)."""
    x, y, w, h = four_numbers(value, field)
    if w <= 0 or h <= 0:
        raise RowRejected(field, f"has zero or negative width/height: {[x, y, w, h]}")
    return (x, y, x + w, y + h)


def pixel_box_in_image(value: Any, size: tuple[int, int], field: str) -> tuple[float, float, float, float]:
    """Check a pixel `[x1, y1, x2, y2]` against B's size; a rounding overhang is clipped, more is refused."""
    box = four_numbers(value, field)
    _check_order(box, field)
    width, height = size
    x1, y1, x2, y2 = box
    tol = BOX_TOLERANCE_PX
    if x1 < -tol or y1 < -tol or x2 > width + tol or y2 > height + tol:
        raise RowRejected(field, f"{[x1, y1, x2, y2]} lies outside image B ({width}x{height} px)")
    clipped = (max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2))
    _check_order(clipped, field)
    return clipped
