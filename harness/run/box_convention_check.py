"""The box-convention self-check of a text-answering model: are its boxes read in the right frame?

The most common fault of multimodal-LLM grounding is a box read in the wrong frame: numbers on a
0-1000 grid read as pixels, pixels of the model's own resized input (Qwen2.5-VL) read as pixels of
the image, boxes offset on non-square images. The check shows the model probe pairs whose answer is
known (`box_convention_pairs`: one red square added to a plain scene, at twelve sizes and aspect
ratios), runs the adapter on them exactly as a run would (`adapter.predict`, in small batches),
and compares each top-1 box with the truth:

- per axis, a least-squares line of predicted on true coordinates (`box_convention_fit`): scale,
  offset (pixels and fraction of the side), R^2;
- per candidate reading of the numbers, how well it explains the answers
  (`box_convention_readings`), and whether one explains them much better than the declared one.

The verdict is `ok` when nothing is wrong, `wrong` when a warning says the frame looks wrong (a
named explanation, a scale more than `SCALE_TOLERANCE` off 1, an offset above `OFFSET_TOLERANCE`
of the side, or a poor fit), and `no-boxes` when fewer than `MIN_BOXES` answers held a readable box
(nothing to fit). Its predictions are the check's own: they are not written to any run's
predictions or to the prediction cache.

The declared frame comes from the adapter: a `VlmAdapter` declares its prompt's `coordinates`
(or the `coordinates` option) and says how it sends each pair (`request_for`: the sent size, the
canvas layout). An adapter may also say the size its model resizes an image to, through an
optional method `model_input_size(sent_size) -> (w, h) | None`; with it the check also tests the
"pixels of the resized input" reading at that exact size. Any other adapter that answers in text is
checked against its contract, boxes in B's pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from harness.run.box_convention_fit import AxisFit, fit_boxes, signed
from harness.run.box_convention_pairs import Box, ProbePair, probe_pairs
from harness.run.box_convention_readings import (
    SCALE_WORDS,
    ProbeFrame,
    ReadingScore,
    explaining_reading,
    rank_readings,
)
from idg_adapters.base import Adapter, Prediction
from idg_adapters.box_scales import SCALES
from idg_adapters.box_text import CONVENTIONS

MIN_BOXES = 3
SCALE_TOLERANCE = 0.10
OFFSET_TOLERANCE = 0.05
MIN_R2 = 0.8
CHECK_BATCH = 4
READINGS_KEPT = 6  # readings stored in the JSON record, best first
REPLY_SHOWN = 120  # characters of a reply quoted in a message


class Verdict(str, Enum):
    OK = "ok"
    WRONG = "wrong"
    NO_BOXES = "no-boxes"

    def __str__(self) -> str:
        return self.value


@dataclass
class ProbeAnswer:
    """The adapter's answer to one probe: its top-1 box in B's pixels, or why there is none."""

    probe: ProbePair
    frame: ProbeFrame
    box: Box | None = None
    error: str | None = None
    reply: str | None = None


@dataclass
class Declared:
    """The frame the adapter declares its model's numbers are in."""

    coordinates: str
    claim: str  # who declares what, in words: "the prompt declares a 0-1000 grid"
    convention: str | None = None
    prompt: str | None = None

    @property
    def words(self) -> str:
        return SCALE_WORDS[self.coordinates]

    def to_json(self) -> dict[str, Any]:
        return {"coordinates": self.coordinates, "convention": self.convention, "prompt": self.prompt}


@dataclass
class BoxCheck:
    """The check's outcome for one model; `to_json` is what run.json keeps under `box_check`."""

    model: str
    seed: int
    declared: Declared
    answers: list[ProbeAnswer]
    x: AxisFit | None = None
    y: AxisFit | None = None
    own: ReadingScore | None = None  # the declared reading's score
    readings: list[ReadingScore] = field(default_factory=list)  # every other testable reading, best first
    explanation: ReadingScore | None = None
    warnings: list[str] = field(default_factory=list)  # what makes the verdict not ok
    notes: list[str] = field(default_factory=list)  # worth knowing, not a verdict
    fix: str | None = None
    verdict: Verdict = Verdict.OK

    @property
    def boxes(self) -> int:
        return sum(a.box is not None for a in self.answers)

    @property
    def errors(self) -> int:
        return sum(a.error is not None for a in self.answers)

    @property
    def no_box(self) -> int:
        return sum(a.box is None and a.error is None for a in self.answers)

    def to_json(self) -> dict[str, Any]:
        def reading(score: ReadingScore) -> dict[str, Any]:
            return {
                "reading": score.reading.key,
                "words": score.reading.words,
                "median_error": round(score.median_error, 4),
            }

        return {
            "verdict": self.verdict.value,
            "seed": self.seed,
            "pairs": len(self.answers),
            "boxes": self.boxes,
            "no_box": self.no_box,
            "errors": self.errors,
            "declared": self.declared.to_json(),
            "x": self.x.to_json() if self.x else None,
            "y": self.y.to_json() if self.y else None,
            "declared_median_error": round(self.own.median_error, 4) if self.own else None,
            "readings": [reading(s) for s in self.readings[:READINGS_KEPT]],
            "explanation": reading(self.explanation) if self.explanation else None,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "fix": self.fix,
        }


def declared_frame(adapter: Adapter) -> Declared:
    """The coordinates the adapter reads its model's numbers in (pixels of B for a non-VLM adapter)."""
    coordinates = getattr(adapter, "coordinates", None)
    prompt = getattr(adapter, "prompt", None)
    if isinstance(coordinates, str) and coordinates in SCALES:
        who = "the coordinates option" if adapter.options.get("coordinates") else "the prompt"
        claim = f"{who} declares {SCALE_WORDS[coordinates]}"
        return Declared(coordinates, claim, getattr(prompt, "convention", None), getattr(prompt, "source", None))
    return Declared("pixels", "the adapter should return pixels of B")


def probe_frame(adapter: Adapter, probe: ProbePair) -> ProbeFrame:
    """How `adapter` sends the probe and reads its answer (see the module docstring)."""
    frame_size = sent_size = probe.size
    layout = None
    request_for = getattr(adapter, "request_for", None)
    if callable(request_for):
        request = request_for(probe.pair)
        frame_size, sent_size, layout = request.frame_size, request.sent_size, request.layout
    model_input_size = getattr(adapter, "model_input_size", None)
    model_size = model_input_size(sent_size) if callable(model_input_size) else None
    return ProbeFrame(
        b_size=probe.size,
        frame_size=tuple(frame_size),
        sent_size=tuple(sent_size),
        layout=layout,
        a_half=str(adapter.options.get("a_half", "map")),
        model_size=tuple(model_size) if model_size else None,
    )


def _answer(probe: ProbePair, frame: ProbeFrame, prediction: object) -> ProbeAnswer:
    answer = ProbeAnswer(probe, frame)
    if not isinstance(prediction, Prediction):
        answer.error = f"adapter returned {type(prediction).__name__}, not a Prediction"
        return answer
    answer.reply = prediction.reply if isinstance(prediction.reply, str) else None
    if prediction.error:
        answer.error = str(prediction.error)
    elif len(prediction.boxes) and np.isfinite(prediction.boxes[0]).all():
        answer.box = tuple(float(v) for v in prediction.boxes[0])
    return answer


def ask_probes(adapter: Adapter, probes: Sequence[ProbePair], batch_size: int = CHECK_BATCH) -> list[ProbeAnswer]:
    """The adapter's top-1 answer to each probe, in batches of the size the adapter prefers for
    `batch_size` (a server-backed adapter asks for its concurrency); a batch that raises is an error
    for its probes."""
    preferred = getattr(adapter, "preferred_batch_size", None)
    batch_size = max(1, int(preferred(batch_size))) if callable(preferred) else batch_size
    answers: list[ProbeAnswer] = []
    for start in range(0, len(probes), batch_size):
        chunk = list(probes[start : start + batch_size])
        try:
            frames = [probe_frame(adapter, p) for p in chunk]
        except Exception as exc:  # an adapter that cannot even frame a probe: its answers are errors
            frames = [ProbeFrame(p.size, p.size, p.size) for p in chunk]
            answers += [
                ProbeAnswer(p, f, error=f"{type(exc).__name__}: {exc}") for p, f in zip(chunk, frames, strict=True)
            ]
            continue
        try:
            predictions: list[object] = list(adapter.predict([p.pair for p in chunk]))
            if len(predictions) != len(chunk):
                raise RuntimeError(f"adapter returned {len(predictions)} predictions for {len(chunk)} pairs")
        except Exception as exc:  # the check reports a failing model, it does not crash on it
            answers += [
                ProbeAnswer(p, f, error=f"{type(exc).__name__}: {exc}") for p, f in zip(chunk, frames, strict=True)
            ]
            continue
        answers += [_answer(p, f, pred) for p, f, pred in zip(chunk, frames, predictions, strict=True)]
    return answers


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= REPLY_SHOWN else text[:REPLY_SHOWN] + "…")


def _no_boxes_warning(check: BoxCheck) -> str:
    total = len(check.answers)
    if check.boxes == 0 and check.errors == total:
        first = next(a.error for a in check.answers if a.error)
        return f"no readable boxes: the model failed on all {total} probe pairs (first error: {first})"
    form = ""
    if check.declared.convention in CONVENTIONS:
        form = f" in the prompt's form ({check.declared.convention}: {CONVENTIONS[check.declared.convention].example})"
    reply = next((a.reply for a in check.answers if a.box is None and a.reply), None)
    quoted = f"; first reply without one: {_quoted(reply)}" if reply else ""
    if check.boxes == 0:
        return f"no readable boxes: none of the {total} answers held a box{form}{quoted}"
    return f"too few boxes to fit: only {check.boxes} of {total} answers held a readable box{form}{quoted}"


def _scaled(check: BoxCheck) -> str:
    """How much each axis looks scaled, from the answered boxes' extents against the true ones (free
    of any offset): one number when the probes agree, else their range and median."""
    parts = []
    answered = [a for a in check.answers if a.box is not None]
    for axis, (lo, hi) in (("x", (0, 2)), ("y", (1, 3))):
        ratios = np.array([(a.box[hi] - a.box[lo]) / (a.probe.box[hi] - a.probe.box[lo]) for a in answered])
        ratios = ratios[np.isfinite(ratios)]
        if not len(ratios):
            continue
        low, high, median = float(ratios.min()), float(ratios.max()), float(np.median(ratios))
        if high - low <= 0.05 * max(abs(median), 1e-9):
            parts.append(f"{axis} looks scaled by {median:.2f}")
        else:
            parts.append(f"{axis} looks scaled by {low:.2f} to {high:.2f} (median {median:.2f})")
    return ", ".join(parts)


def _explanation_warning(check: BoxCheck, best: ReadingScore) -> str:
    own = check.own.median_error if check.own else float("nan")
    errors = f" (median error {best.median_error:.1%} of the side read that way, {own:.1%} as declared)"
    claim = check.declared.claim
    if best.reading.scale != "model-pixels":
        return f"answers look like {best.reading.words}, but {claim}{errors}"
    scaled = _scaled(check)
    return f"{scaled + ': ' if scaled else ''}answers seem to be on {best.reading.words}, but {claim}{errors}"


def _fit_warnings(fit: AxisFit) -> list[str]:
    side = "width" if fit.axis == "x" else "height"
    warnings = []
    if abs(fit.scale - 1) > SCALE_TOLERANCE:
        warnings.append(
            f"{fit.axis} looks scaled by {fit.scale:.2f} (more than {SCALE_TOLERANCE:.0%} off 1), "
            "and no reading tried explains it"
        )
    if abs(fit.offset_fraction) > OFFSET_TOLERANCE:
        warnings.append(
            f"{fit.axis} is offset by {signed(fit.offset_px)} px ({signed(100 * fit.offset_fraction, 1, '%')} of the {side})"
        )
    if fit.r2 < MIN_R2:
        warnings.append(
            f"{fit.axis} boxes follow the squares poorly (R^2 {fit.r2:.2f}): the model may not ground these probes"
        )
    return warnings


def _fix(check: BoxCheck, adapter: Adapter) -> str | None:
    best = check.explanation
    if best is None or "coordinates" not in adapter.options:
        return None
    if best.reading.resize is not None:
        return (
            "the adapter must read the model's resized input: declare `coordinates: model-pixels` "
            "in the prompt with a backend that reports the resized size"
        )
    return f"declare `coordinates: {best.reading.scale}` in the prompt, or pass --opt {check.model}.coordinates={best.reading.scale}"


def judge(check: BoxCheck, adapter: Adapter) -> None:
    """Fit, rank the readings, and set the warnings, notes, fix and verdict of `check`."""
    answered = [a for a in check.answers if a.box is not None]
    failed = [a for a in check.answers if a.error is not None]
    if failed and len(failed) < len(check.answers):
        check.notes.append(f"{len(failed)} of {len(check.answers)} probe pairs failed (first error: {failed[0].error})")
    if len(answered) < MIN_BOXES:
        check.warnings.append(_no_boxes_warning(check))
        check.verdict = Verdict.NO_BOXES
        return
    if check.no_box:
        check.notes.append(f"{check.no_box} of {len(check.answers)} answers held no readable box")
    check.x, check.y = fit_boxes(
        np.array([a.probe.box for a in answered]),
        np.array([a.box for a in answered]),
        np.array([a.probe.size for a in answered]),
    )
    triples = [(a.probe.box, a.box, a.frame) for a in answered]
    check.own, check.readings = rank_readings(triples, check.declared.coordinates, check.declared.words)
    if check.own is None:
        check.notes.append(
            f"the declared {check.declared.coordinates} cannot be recomputed here (the resized input size is "
            "unknown), so no other reading was tried"
        )
        check.readings = []
    check.explanation = explaining_reading(check.own, check.readings)
    if check.explanation is not None:
        check.warnings.append(_explanation_warning(check, check.explanation))
    else:
        for fit in (check.x, check.y):
            if fit is not None:
                check.warnings += _fit_warnings(fit)
    check.fix = _fix(check, adapter)
    check.verdict = Verdict.WRONG if check.warnings else Verdict.OK


def check_box_convention(adapter: Adapter, seed: int = 0, batch_size: int = CHECK_BATCH) -> BoxCheck:
    """Run the loaded `adapter` on the probe pairs of `seed` and judge its boxes."""
    answers = ask_probes(adapter, probe_pairs(seed), batch_size)
    check = BoxCheck(model=adapter.name, seed=seed, declared=declared_frame(adapter), answers=answers)
    judge(check, adapter)
    return check


def summary_line(check: BoxCheck) -> str:
    """One line: the verdict, each axis's scale and offset, and how many answers held a box."""
    verdict = {Verdict.OK: "looks right", Verdict.WRONG: "looks wrong", Verdict.NO_BOXES: "no readable boxes"}
    axes = "; ".join(
        f"{fit.axis} scale {fit.scale:.2f}, offset {signed(fit.offset_px)} px" for fit in (check.x, check.y) if fit
    )
    counts = f"{check.boxes} of {len(check.answers)} answers with a box"
    return f"box check of {check.model}: {verdict[check.verdict]} ({'; '.join(p for p in (axes, counts) if p)})"
