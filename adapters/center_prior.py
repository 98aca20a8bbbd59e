"""`center-prior`: a floor baseline that always answers one box centred in image B.

Photographers centre subjects, so this scores above zero; a real model must beat it clearly.
"""

from __future__ import annotations

from typing import Any

from idg_adapters.base import Adapter, PairInput, Prediction
from idg_adapters.registry import register


@register("center-prior")
class CenterPriorAdapter(Adapter):
    description = "One box centred in B, a fixed fraction of its width and height (floor baseline)."
    uses_query = False
    uses_image_a = False

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for key in ("width_fraction", "height_fraction"):
            value = float(self.options[key])
            if not 0.0 < value <= 1.0:
                raise ValueError(f"center-prior: {key} must be in (0, 1], got {self.options[key]!r}")

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        return {"width_fraction": 0.3, "height_fraction": 0.3}

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return [self.predict_one(pair) for pair in batch]

    def predict_one(self, pair: PairInput) -> Prediction:
        width, height = pair.size
        box_w = float(self.options["width_fraction"]) * width
        box_h = float(self.options["height_fraction"]) * height
        x1 = (width - box_w) / 2.0
        y1 = (height - box_h) / 2.0
        return Prediction(boxes=[[x1, y1, x1 + box_w, y1 + box_h]], scores=[1.0])
