"""Candidate readings of a model's box answers, and which one explains the probe answers best.

A *reading* is a hypothesis about the frame the model wrote its numbers in: as its prompt declares,
on a 0-1, 0-100 or 0-1000 grid, in pixels of the image as sent, in pixels of the model's resized
input (when the adapter can tell that size), or in pixels of an input resized to L px on its longer
side, or squashed to an L x L square, for models whose resized size the adapter cannot tell (L
estimated from each answer, then the estimate that explains the most answers refined pixel by
pixel). Under a reading, the true box of a probe becomes the numbers the model would have written,
and those numbers, read by the declared scale exactly as the adapter reads them
(`box_scales.boxes_to_pixels`, then `canvas_mapping.canvas_boxes_to_b` in canvas mode), become the
box the adapter would have returned. A reading's error on a probe is the mean absolute difference
between that expected box and the returned one, as a fraction of B's side; its score is the median
over the answered probes (robust to the odd wrong object).

A reading other than the declared one *explains* the answers when the declared reading is clearly
off (median error at least `DECLARED_OFF`) and the other is both good (at most `EXPLAINS`) and at
most `BETTER` times the declared error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from idg_adapters.box_scales import Size, boxes_to_pixels, pixels_to_scale
from idg_adapters.canvas_mapping import CanvasLayout, canvas_boxes_to_b

DECLARED_OFF = 0.05
EXPLAINS = 0.15
BETTER = 0.5

GRIDS = ("0-1", "0-100", "0-1000")
SCALE_WORDS = {
    "0-1": "fractions of the image (a 0-1 grid)",
    "0-100": "a 0-100 grid",
    "0-1000": "a 0-1000 grid",
    "pixels": "pixels of the image as sent",
    "model-pixels": "pixels of the model's resized input",
}
_REFERENCE_SIDE = 1000
_MIN_SIDE, _MAX_SIDE = 16, 8192
_REFINE = 4


@dataclass(frozen=True)
class ProbeFrame:
    """How the adapter reads the answer to one probe: the frame its numbers refer to, as the harness
    holds it (`frame_size`: B, or the A|B canvas) and as it was sent, and how the frame maps to B."""

    b_size: Size
    frame_size: Size
    sent_size: Size
    layout: CanvasLayout | None = None
    a_half: str = "map"
    model_size: Size | None = None  # the model's resized input size, when the adapter can tell it


@dataclass(frozen=True)
class Reading:
    """One hypothesis: the model wrote its numbers on `scale`; for `resize` ("longer" or "square", L)
    `scale` is model-pixels of an input whose size follows from the sent size."""

    key: str
    scale: str
    words: str
    resize: tuple[str, int] | None = None

    def model_size(self, frame: ProbeFrame) -> Size | None:
        if self.resize is None:
            return frame.model_size
        kind, side = self.resize
        if kind == "square":
            return side, side
        w, h = frame.sent_size
        ratio = side / max(w, h)
        return max(1, round(w * ratio)), max(1, round(h * ratio))


@dataclass(frozen=True)
class ReadingScore:
    reading: Reading
    median_error: float  # median over the answered probes, as a fraction of B's side


Answered = tuple[Sequence[float], Sequence[float], ProbeFrame]
"""One answered probe: (true box, returned box, frame), boxes in B's pixels."""


def declared_reading(scale: str, words: str | None = None) -> Reading:
    return Reading("declared", scale, words or SCALE_WORDS[scale])


def fixed_readings(declared: str, model_size_known: bool) -> list[Reading]:
    """The readings with nothing to fit: the grids, pixels as sent, and the resized input if known."""
    readings = [Reading(s, s, SCALE_WORDS[s]) for s in (*GRIDS, "pixels") if s != declared]
    if model_size_known and declared != "model-pixels":
        readings.append(Reading("model-pixels", "model-pixels", SCALE_WORDS["model-pixels"]))
    return readings


def resized_reading(kind: str, side: int) -> Reading:
    if kind == "square":
        return Reading(
            f"square-{side}", "model-pixels", f"a {side}x{side} input (the image squashed to a square)", (kind, side)
        )
    return Reading(
        f"longer-side-{side}", "model-pixels", f"the resized {side}-px input (longer side {side} px)", (kind, side)
    )


def _read_in_frame(true_box: Sequence[float], frame: ProbeFrame, reading: Reading, declared: str) -> np.ndarray:
    """The box, in pixels of the frame (B or the canvas), that the adapter reads from the numbers a
    model answering `true_box` under `reading` writes; shape (1, 4)."""
    box = np.asarray(true_box, dtype=np.float64).reshape(1, 4).copy()
    if frame.layout is not None:
        box[:, 0::2] += frame.layout.b_offset
    raw = pixels_to_scale(box, reading.scale, frame.frame_size, frame.sent_size, reading.model_size(frame))
    return boxes_to_pixels(raw, declared, frame.frame_size, frame.sent_size, frame.model_size)


def expected_box(true_box: Sequence[float], frame: ProbeFrame, reading: Reading, declared: str) -> np.ndarray | None:
    """The box (B's pixels) the adapter returns if the model answered `true_box` under `reading`;
    None when the adapter drops it (a box on A's half of a canvas with `a_half="drop"`).
    ValueError when a scale needs a resized size nobody knows."""
    read = _read_in_frame(true_box, frame, reading, declared)
    if frame.layout is not None:
        read, _ = canvas_boxes_to_b(read, np.ones(1), frame.layout, frame.a_half)
        if not len(read):
            return None
    return read[0]


def box_error(pred: Sequence[float], expected: np.ndarray | None, b_size: Size) -> float:
    """Mean absolute coordinate difference as a fraction of B's side; 1 when nothing was expected."""
    if expected is None:
        return 1.0
    w, h = b_size
    diff = np.abs(np.asarray(pred, dtype=np.float64) - expected) / np.array([w, h, w, h], dtype=np.float64)
    return float(diff.mean())


def score_reading(reading: Reading, answered: Sequence[Answered], declared: str) -> ReadingScore | None:
    """The reading's median error over (true box, predicted box, frame) triples; None if it cannot be
    computed (a resized size nobody knows) or no probe was answered."""
    if not answered:
        return None
    try:
        errors = [
            box_error(pred, expected_box(true, frame, reading, declared), frame.b_size)
            for true, pred, frame in answered
        ]
    except ValueError:
        return None
    return ReadingScore(reading, float(np.median(errors)))


def _side_estimates(kind: str, answered: Sequence[Answered], declared: str) -> list[int]:
    """Per answered probe, the side L that maps its true box closest to its answer, by least squares
    through the origin: the box the adapter reads is (up to rounding the resized size) proportional
    to L. In canvas mode the answer may come from either half, so both are tried."""
    estimates = []
    for true, pred, frame in answered:
        reference = _read_in_frame(true, frame, resized_reading(kind, _REFERENCE_SIDE), declared)[0]
        norm = float(reference @ reference)
        if norm <= 0:
            continue
        pred = np.asarray(pred, dtype=np.float64)
        shifts = [0.0] if frame.layout is None else [0.0, float(frame.layout.b_offset)]
        for shift in shifts:
            seen = pred + np.array([shift, 0.0, shift, 0.0])
            side = _REFERENCE_SIDE * float(seen @ reference) / norm
            if math.isfinite(side) and _MIN_SIDE <= side <= _MAX_SIDE:
                estimates.append(round(side))
    return estimates


def fitted_readings(answered: Sequence[Answered], declared: str) -> list[ReadingScore]:
    """Per resize kind (longer side, square), the side L whose reading has the least median error,
    among the per-probe estimates of L and their median, refined pixel by pixel around the best."""
    out = []
    for kind in ("longer", "square"):
        try:
            estimates = _side_estimates(kind, answered, declared)
        except ValueError:
            continue  # the declared scale needs a resized size nobody knows
        if not estimates:
            continue
        candidates = sorted({*estimates, round(float(np.median(estimates)))})
        best: ReadingScore | None = None
        for sides in (candidates, None):
            if sides is None:
                centre = best.reading.resize[1]  # type: ignore[union-attr,index]
                sides = range(max(_MIN_SIDE, centre - _REFINE), centre + _REFINE + 1)
            for side in sides:
                score = score_reading(resized_reading(kind, side), answered, declared)
                if score is not None and (best is None or score.median_error < best.median_error):
                    best = score
            if best is None:
                break
        if best is not None:
            out.append(best)
    return out


def rank_readings(
    answered: Sequence[Answered],
    declared: str,
    declared_words: str | None = None,
) -> tuple[ReadingScore | None, list[ReadingScore]]:
    """(the declared reading's score, every other testable reading's score, best first)."""
    model_size_known = bool(answered) and all(frame.model_size is not None for _, _, frame in answered)
    own = score_reading(declared_reading(declared, declared_words), answered, declared)
    others = [score_reading(r, answered, declared) for r in fixed_readings(declared, model_size_known)]
    scores = [s for s in others if s is not None] + fitted_readings(answered, declared)
    return own, sorted(scores, key=lambda s: s.median_error)


def explaining_reading(own: ReadingScore | None, others: list[ReadingScore]) -> ReadingScore | None:
    """The best other reading when it explains the answers much better than the declared one."""
    if own is None or not others or own.median_error < DECLARED_OFF:
        return None
    best = others[0]
    if best.median_error <= EXPLAINS and best.median_error <= BETTER * own.median_error:
        return best
    return None
