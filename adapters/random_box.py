"""`random-box`: a seeded floor baseline of K random boxes, the chance level of every metric.

The generator is seeded from the seed option and the pair's content (query, pixels of A and B)
through SHA-256, so a pair gets the same boxes whatever its sample id, batch or process (Python's
`hash()` is salted per process). Content, not the id, because the prediction cache keys on
content: two samples with the same query and images share one cached answer, so they must get
the same boxes when computed too.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from idg_adapters.base import Adapter, PairInput, Prediction
from idg_adapters.registry import register


def pair_rng(seed: int, pair: PairInput) -> np.random.Generator:
    """A generator that depends only on `seed`, the query and the pixels of A and B (never the id)."""
    digest = hashlib.sha256(f"random-box:{seed}:".encode())
    digest.update(hashlib.sha256(pair.query.encode("utf-8")).digest())
    for image in (pair.image_a, pair.image_b):
        # The size too: the same bytes make different images at 2x3 and 3x2.
        digest.update(f"{image.size[0]}x{image.size[1]}:".encode())
        digest.update(hashlib.sha256(image.tobytes()).digest())
    return np.random.default_rng(int.from_bytes(digest.digest()[:16], "little"))


@register("random-box")
class RandomBoxAdapter(Adapter):
    description = (
        "K random boxes seeded by (seed, query, pixels of A and B), random scores sorted descending (floor baseline)."
    )
    # The query and A only pick the random draw; where the boxes go carries nothing of them.
    uses_query = False
    uses_image_a = False
    version = "2"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        lo, hi = float(self.options["min_fraction"]), float(self.options["max_fraction"])
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"random-box: need 0 < min_fraction <= max_fraction <= 1, got {lo}, {hi}")
        if int(self.options["num_boxes"]) < 0:
            raise ValueError(f"random-box: num_boxes must be >= 0, got {self.options['num_boxes']!r}")

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        # Sizes are fractions of B's width/height, so the boxes scale with the image.
        return {"seed": 0, "num_boxes": 5, "min_fraction": 0.05, "max_fraction": 0.5}

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return [self.predict_one(pair) for pair in batch]

    def predict_one(self, pair: PairInput) -> Prediction:
        rng = pair_rng(int(self.options["seed"]), pair)
        k = int(self.options["num_boxes"])
        frame = np.array(pair.size, dtype=np.float64)  # (W, H)
        lo, hi = float(self.options["min_fraction"]), float(self.options["max_fraction"])
        sizes = rng.uniform(lo, hi, size=(k, 2)) * frame
        corners = rng.uniform(0.0, 1.0, size=(k, 2)) * (frame - sizes)
        boxes = np.concatenate([corners, corners + sizes], axis=1)
        boxes = np.minimum(boxes, np.tile(frame, 2))  # float round-off must not leave the frame
        scores = np.sort(rng.uniform(0.0, 1.0, size=k))[::-1]
        return Prediction(boxes=boxes, scores=scores)
