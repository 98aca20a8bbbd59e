"""The IoU thresholds τ at which Acc@τ is computed: the defaults, the option's parser and the metric keys.

Acc@0.5 (HIT_IOU) is always among them: it is the leaderboards' main metric and the controls'
hit rule. `--iou-thresholds 0.3,0.5,0.7` gives MIG-Bench's thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from harness.errors import HarnessError
from harness.metrics.box_iou import HIT_IOU

DEFAULT_IOU_THRESHOLDS: tuple[float, ...] = (0.25, 0.5, 0.75)


def acc_key(tau: float) -> str:
    """The metrics key of Acc@τ (`acc@0.3`), as compute_metrics writes it."""
    return f"acc@{tau:g}"


def with_main_threshold(thresholds: Iterable[float]) -> tuple[float, ...]:
    """The thresholds, sorted, duplicates removed, with Acc@0.5's threshold added."""
    return tuple(sorted({float(t) for t in thresholds} | {HIT_IOU}))


def parse_iou_thresholds(text: str, option: str = "--iou-thresholds") -> tuple[float, ...]:
    """`0.3,0.5,0.7` -> (0.3, 0.5, 0.7): each value a number in (0, 1]; 0.5 is added when absent.
    HarnessError naming `option` and the bad value otherwise."""
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise HarnessError(
                f"{option}: {part!r} is not a number (give comma-separated IoU values in (0, 1], e.g. 0.3,0.5,0.7)"
            ) from None
        if not math.isfinite(value) or not 0 < value <= 1:
            raise HarnessError(f"{option}: {part} is outside (0, 1]; an IoU threshold is above 0 and at most 1")
        values.append(value)
    if not values:
        raise HarnessError(f"{option}: give at least one IoU threshold in (0, 1], e.g. 0.3,0.5,0.7")
    return with_main_threshold(values)
