"""One line of `predictions.jsonl`: a model's checked answer for one sample, and the rule that checks it.

Rule for what adapters return (documented in README, applied to every prediction):
- not a `Prediction`, a count that does not match the batch, scores of another length than boxes,
  or any NaN / inf coordinate or score -> the sample is recorded as an error (a miss);
- a flipped box (x2 < x1 or y2 < y1) -> error: that is an adapter bug, not something to guess at;
- coordinates outside image B -> clipped to B's frame (boxes that overhang are common and harmless).
Boxes keep the adapter's order: the first box is the top-1 answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from idg_adapters.base import Prediction


@dataclass
class PredictionRecord:
    """What the runner stores per sample: ranked boxes in B's pixels, scores, or an error."""

    id: str
    sample_fp: str
    boxes: list[list[float]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    error: str | None = None
    clipped: bool = False
    change_counts: list[int] | None = None  # (tp, fp, fn, tn) of the predicted change mask vs the pair's masks
    reply: str | None = None  # the model's raw text answer (a multimodal LLM's, or a reply file's in harness score)
    usage: dict[str, int] | None = None  # tokens the answer cost (prompt_tokens, completion_tokens)

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "sample_fp": self.sample_fp, "boxes": self.boxes, "scores": self.scores}
        if self.error is not None:
            out["error"] = self.error
        if self.clipped:
            out["clipped"] = True
        if self.change_counts is not None:
            out["change_counts"] = self.change_counts
        if self.reply is not None:
            out["reply"] = self.reply
        if self.usage is not None:
            out["usage"] = self.usage
        return out

    @classmethod
    def from_json_dict(cls, row: dict[str, Any]) -> PredictionRecord:
        return cls(
            id=str(row["id"]),
            sample_fp=str(row["sample_fp"]),
            boxes=[[float(v) for v in box] for box in row.get("boxes", [])],
            scores=[float(v) for v in row.get("scores", [])],
            error=row.get("error"),
            clipped=bool(row.get("clipped", False)),
            change_counts=[int(v) for v in row["change_counts"]] if row.get("change_counts") else None,
            reply=row.get("reply"),
            usage={str(k): int(v) for k, v in row["usage"].items()} if isinstance(row.get("usage"), dict) else None,
        )

    def boxes_array(self) -> np.ndarray:
        return np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)

    def scores_array(self) -> np.ndarray:
        return np.asarray(self.scores, dtype=np.float64).reshape(-1)


def error_record(
    sample_id: str, sample_fp: str, error: str, reply: str | None = None, usage: dict[str, int] | None = None
) -> PredictionRecord:
    return PredictionRecord(id=sample_id, sample_fp=sample_fp, error=error, reply=reply, usage=usage)


def _usage(value: Any) -> dict[str, int] | None:
    """Token counts as ints; anything else (a malformed usage) is dropped rather than stored."""
    if not isinstance(value, dict):
        return None
    try:
        return {str(k): int(v) for k, v in value.items() if v is not None}
    except (TypeError, ValueError):
        return None


def check_prediction(prediction: Any, sample_id: str, sample_fp: str, width: int, height: int) -> PredictionRecord:
    """Apply the module's rule to one adapter output and return the record to store."""
    if not isinstance(prediction, Prediction):
        return error_record(sample_id, sample_fp, f"adapter returned {type(prediction).__name__}, not a Prediction")
    reply = prediction.reply if isinstance(prediction.reply, str) else None
    usage = _usage(prediction.usage)
    if prediction.error:
        return error_record(sample_id, sample_fp, str(prediction.error), reply, usage)
    boxes, scores = prediction.boxes, prediction.scores
    problem = None
    if len(scores) != len(boxes):
        problem = f"adapter returned {len(boxes)} boxes but {len(scores)} scores"
    elif not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        problem = "adapter returned a non-finite (NaN or inf) box or score"
    elif len(boxes) and ((boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any()):
        problem = "adapter returned a flipped box (x2 < x1 or y2 < y1)"
    if problem is not None:
        return error_record(sample_id, sample_fp, problem, reply, usage)
    clipped_boxes = boxes.copy()
    np.clip(clipped_boxes[:, 0::2], 0.0, float(width), out=clipped_boxes[:, 0::2])
    np.clip(clipped_boxes[:, 1::2], 0.0, float(height), out=clipped_boxes[:, 1::2])
    return PredictionRecord(
        id=sample_id,
        sample_fp=sample_fp,
        boxes=[[round(float(v), 4) for v in box] for box in clipped_boxes],
        scores=[round(float(v), 6) for v in scores],
        clipped=bool((clipped_boxes != boxes).any()),
        reply=reply,
        usage=usage,
    )
