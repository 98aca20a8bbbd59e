"""`example-brightest-change`: one box around the pixels whose brightness changed most between A and B."""

from __future__ import annotations

from typing import Any

import numpy as np

from idg_adapters.base import Adapter, PairInput, Prediction

# ITU-R BT.601 luma weights: brightness as people perceive it, not the plain channel mean.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class BrightestChangeAdapter(Adapter):
    """Box around every pixel whose brightness change is at least `keep_fraction` of the largest.

    No `@register` here: the entry point in pyproject.toml registers it under `name`.
    """

    name = "example-brightest-change"
    description = "Box around the pixels whose brightness changed most (example plugin)."
    uses_query = False

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not 0.0 < float(self.options["keep_fraction"]) <= 1.0:
            raise ValueError(f"{self.name}: keep_fraction must be in (0, 1], got {self.options['keep_fraction']!r}")

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        # min_change is in brightness units of 0..1: below it the pair counts as unchanged.
        return {"keep_fraction": 0.5, "min_change": 0.05}

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return [self.predict_one(pair) for pair in batch]

    def predict_one(self, pair: PairInput) -> Prediction:
        a = np.asarray(pair.image_a, dtype=np.float32) @ _LUMA / 255.0
        b = np.asarray(pair.image_b, dtype=np.float32) @ _LUMA / 255.0
        change = np.abs(b - a)
        peak = float(change.max()) if change.size else 0.0
        if peak < float(self.options["min_change"]):
            return Prediction(boxes=np.zeros((0, 4)), scores=np.zeros(0), mask=change)
        kept = change >= float(self.options["keep_fraction"]) * peak
        rows = np.flatnonzero(kept.any(axis=1))
        cols = np.flatnonzero(kept.any(axis=0))
        # Pixel (x, y) covers [x, x + 1), so the box's far edges are the last index + 1.
        box = [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]
        return Prediction(boxes=[box], scores=[peak], mask=change)
