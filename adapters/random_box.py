"""`random-box`: a seeded floor baseline of K random boxes, the chance level of every metric.

The generator is seeded from (seed option, sample id) through SHA-256, so a sample gets the same
boxes whatever batch or process it lands in (Python's `hash()` is salted per process).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from adapters.base import Adapter, PairInput, Prediction
from adapters.registry import register


def sample_rng(seed: int, sample_id: str) -> np.random.Generator:
    """A generator that depends only on `seed` and `sample_id`."""
    digest = hashlib.sha256(f"random-box:{seed}:{sample_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


@register("random-box")
class RandomBoxAdapter(Adapter):
    description = "K random boxes seeded by (seed, sample id), random scores sorted descending (floor baseline)."
    uses_query = False
    uses_image_a = False

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        lo, hi = float(self.options["min_fraction"]), float(self.options["max_fraction"])
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"random-box: need 0 < min_fraction <= max_fraction <= 1, got {lo}, {hi}")
        if int(self.options["num_boxes"]) < 0:
            raise ValueError(f"random-box: num_boxes must be >= 0, got {self.options['num_boxes']!r}")

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        # Sizes are fractions of B's width/height, so the same sample id gives a similar layout
        # at any resolution.
        return {"seed": 0, "num_boxes": 5, "min_fraction": 0.05, "max_fraction": 0.5}

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return [self.predict_one(pair) for pair in batch]

    def predict_one(self, pair: PairInput) -> Prediction:
        rng = sample_rng(int(self.options["seed"]), pair.id)
        k = int(self.options["num_boxes"])
        frame = np.array(pair.size, dtype=np.float64)  # (W, H)
        lo, hi = float(self.options["min_fraction"]), float(self.options["max_fraction"])
        sizes = rng.uniform(lo, hi, size=(k, 2)) * frame
        corners = rng.uniform(0.0, 1.0, size=(k, 2)) * (frame - sizes)
        boxes = np.concatenate([corners, corners + sizes], axis=1)
        boxes = np.minimum(boxes, np.tile(frame, 2))  # float round-off must not leave the frame
        scores = np.sort(rng.uniform(0.0, 1.0, size=k))[::-1]
        return Prediction(boxes=boxes, scores=scores)
