"""Per-sample records that metrics consume, and their columnar form sorted by sample id."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.errors import HarnessError


class InvalidOutcome(HarnessError):
    """A SampleOutcome is malformed (bad shapes, non-finite values, duplicate id)."""


@dataclass
class SampleOutcome:
    """One scored sample: the target box in image B and the model's ranked predictions."""

    id: str
    target: tuple[float, float, float, float]  # xyxy pixels of image B
    boxes: np.ndarray  # (N, 4) xyxy, ranked best first; N may be 0
    scores: np.ndarray  # (N,)
    error: str | None = None  # the adapter failed: a miss (IoU 0), whatever boxes it holds
    strata: dict[str, str] = field(default_factory=dict)  # e.g. {"edit_type": "remove", "size": "small"}


@dataclass
class OutcomeTable:
    """Outcomes as arrays, sorted by id so every result is independent of arrival order."""

    ids: list[str]
    targets: np.ndarray  # (N, 4)
    top1: np.ndarray  # (N, 4); NaN rows where there is no usable prediction
    has_error: np.ndarray  # (N,) bool
    no_prediction: np.ndarray  # (N,) bool: no error, but zero boxes
    strata: list[dict[str, str]]
    boxes: list[np.ndarray]  # ranked boxes per sample, empty for errors (for AP50)
    scores: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_outcomes(cls, outcomes: Sequence[SampleOutcome]) -> OutcomeTable:
        ordered = sorted(outcomes, key=lambda outcome: str(outcome.id))
        ids = [str(outcome.id) for outcome in ordered]
        duplicates = sorted({a for a, b in zip(ids, ids[1:], strict=False) if a == b})
        if duplicates:
            raise InvalidOutcome(
                f"duplicate sample ids {duplicates[:5]}: every outcome needs a unique id; score each sample once"
            )
        n = len(ordered)
        targets = _checked_targets(ordered)
        has_error = np.fromiter((outcome.error is not None for outcome in ordered), dtype=bool, count=n)
        empty_boxes, empty_scores = np.zeros((0, 4)), np.zeros(0)
        boxes = [empty_boxes if failed else _as_boxes(o) for o, failed in zip(ordered, has_error, strict=True)]
        scores = [
            empty_scores if failed else _as_scores(o, len(b))
            for o, b, failed in zip(ordered, boxes, has_error, strict=True)
        ]
        counts = np.fromiter((len(b) for b in boxes), dtype=np.int64, count=n)
        # Validated in bulk: a per-sample isfinite costs more than everything else here.
        all_boxes = np.concatenate([empty_boxes, *boxes])
        all_scores = np.concatenate([empty_scores, *scores])
        finite = np.isfinite(all_boxes).all(axis=1) & np.isfinite(all_scores)
        if not finite.all():
            bad = ordered[int(np.searchsorted(np.cumsum(counts), np.argmin(finite), side="right"))]
            raise InvalidOutcome(
                f"sample {bad.id!r}: boxes and scores must be finite; set `error` if the adapter failed"
            )
        top1 = np.full((n, 4), np.nan)
        has_boxes = counts > 0
        top1[has_boxes] = all_boxes[(np.cumsum(counts) - counts)[has_boxes]]
        return cls(
            ids=ids,
            targets=targets,
            top1=top1,
            has_error=has_error,
            no_prediction=~has_error & ~has_boxes,
            strata=[dict(outcome.strata) for outcome in ordered],
            boxes=boxes,
            scores=scores,
        )


def _checked_targets(ordered: Sequence[SampleOutcome]) -> np.ndarray:
    if not ordered:
        return np.zeros((0, 4))
    # Bulk conversion first (fast); only when it fails, find the sample to name in the error.
    with contextlib.suppress(ValueError, TypeError):
        targets = np.array([outcome.target for outcome in ordered], dtype=np.float64)
        if targets.shape == (len(ordered), 4) and np.isfinite(targets).all():
            return targets
    for outcome in ordered:
        target = np.asarray(outcome.target, dtype=np.float64)
        if target.shape != (4,) or not np.isfinite(target).all():
            raise InvalidOutcome(f"sample {outcome.id!r}: target must be 4 finite xyxy numbers, got {outcome.target!r}")
    raise InvalidOutcome("targets must each be 4 finite xyxy numbers")


def _as_boxes(outcome: SampleOutcome) -> np.ndarray:
    boxes = np.asarray(outcome.boxes, dtype=np.float64)
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise InvalidOutcome(f"sample {outcome.id!r}: boxes must be (N, 4) xyxy, got shape {boxes.shape}")
    return boxes


def _as_scores(outcome: SampleOutcome, n_boxes: int) -> np.ndarray:
    scores = np.asarray(outcome.scores, dtype=np.float64)
    if scores.shape != (n_boxes,):
        if scores.size == 0 and n_boxes == 0:
            return scores.reshape(0)
        raise InvalidOutcome(f"sample {outcome.id!r}: scores must be ({n_boxes},) to match boxes, got {scores.shape}")
    return scores
