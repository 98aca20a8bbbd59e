"""A file's answer for one sample as the record a run would store: boxes in pixels of B, checked.

`--boxes` declares what the file's numbers mean: `pixels` of B, `normalized` (0-1 of B's width
and height) or `0-1000` (thousandths of B's width and height). Each sample's B size is its
image's decoded size.

Two rules, by what the file holds:
- numbers (jsonl, csv): the file is data, so a box outside B beyond BOX_TOLERANCE_PX is a
  problem that refuses the file (a flipped box was already refused when reading). A box within
  the tolerance is clipped to B and the record marked `clipped`.
- raw replies (text, mig-bench): the boxes are the model's answer, so they follow the rule for
  adapter output (harness/run/prediction_record.py): a flipped box makes the sample an error (a
  miss), a box over B's edge is clipped. The reply is kept in the record either way.
Without scores, the box ranked r-th (from 1) gets score 1/r, keeping the file's order.
"""

from __future__ import annotations

from harness.data.validate import BOX_TOLERANCE_PX
from harness.run.external_predictions import ExternalAnswer, PredictionProblem
from harness.run.prediction_record import PredictionRecord, check_prediction, error_record
from idg_adapters.base import Prediction

BOX_SCALES: tuple[str, ...] = ("pixels", "normalized", "0-1000")


def to_pixels(box: list[float], scale: str, width: int, height: int) -> list[float]:
    """`box` in pixels of a `width` x `height` image B."""
    if scale == "pixels":
        return list(box)
    unit = {"normalized": 1.0, "0-1000": 1000.0}[scale]
    x1, y1, x2, y2 = box
    return [x1 / unit * width, y1 / unit * height, x2 / unit * width, y2 / unit * height]


def rank_scores(n: int) -> list[float]:
    return [1.0 / (rank + 1) for rank in range(n)]


def outside_problems(
    answer: ExternalAnswer, boxes: list[list[float]], width: int, height: int, file: str
) -> list[PredictionProblem]:
    """A problem for each box (in pixels) that leaves B by more than the tolerance."""
    tol = BOX_TOLERANCE_PX
    problems = []
    for (line, field_name), given, box in zip(answer.places, answer.boxes, boxes, strict=True):
        x1, y1, x2, y2 = box
        if x1 < -tol or y1 < -tol or x2 > width + tol or y2 > height + tol:
            in_pixels = "" if given == box else f" ({', '.join(f'{v:g}' for v in box)} in pixels)"
            problems.append(
                PredictionProblem(
                    file,
                    line,
                    field_name,
                    f"box {given}{in_pixels} of sample {answer.id!r} lies outside image B ({width}x{height} px) "
                    f"by more than {tol:g} px",
                )
            )
    return problems


def answer_record(
    answer: ExternalAnswer, sample_fp: str, scale: str, width: int, height: int, file: str
) -> tuple[PredictionRecord, list[PredictionProblem]]:
    """The stored record of one answer, and the problems that refuse the file (numbers only)."""
    boxes = [to_pixels(b, scale, width, height) for b in answer.boxes]
    is_reply = answer.reply is not None
    problems = [] if is_reply else outside_problems(answer, boxes, width, height, file)
    flipped = [i for i, (x1, y1, x2, y2) in enumerate(boxes) if x2 < x1 or y2 < y1]
    if is_reply and flipped:
        record = error_record(answer.id, sample_fp, f"the reply's box {flipped[0] + 1} is flipped (x2 < x1 or y2 < y1)")
    else:
        scores = answer.scores if answer.scores is not None else rank_scores(len(boxes))
        record = check_prediction(Prediction(boxes=boxes, scores=scores), answer.id, sample_fp, width, height)
    record.reply = answer.reply
    return record, problems


def missing_record(sample_id: str, sample_fp: str) -> PredictionRecord:
    """A sample the file has no answer for: no box (a `no-prediction` miss)."""
    return PredictionRecord(id=sample_id, sample_fp=sample_fp)
