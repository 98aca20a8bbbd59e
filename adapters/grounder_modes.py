"""The IDG modes of a single-image grounder: which image it sees and how its boxes reach B's frame.

`b` and `a` ground on one image; `canvas` on A | B side by side; `diffimg` on B with unchanged
pixels dimmed; `cdrank` on B, re-ranked by overlap with the pixel-difference change mask.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from scipy import ndimage

from harness.metrics.box_iou import box_iou_matrix
from idg_adapters.base import PairInput
from idg_adapters.canvas_mapping import A_HALF_POLICIES, CanvasLayout, canvas_boxes_to_b, compose_canvas
from idg_adapters.pixel_diff import change_map, change_threshold, clean_mask, component_boxes
from idg_adapters.single_image_grounder import Candidates


@dataclass
class PreparedImage:
    """The image a mode hands to the grounder, plus what it needs to map the boxes back."""

    image: Image.Image
    layout: CanvasLayout | None = None


class GroundingMode(ABC):
    """One way of feeding an image pair to a single-image grounder."""

    name: ClassVar[str]
    description: ClassVar[str]
    uses_image_a: ClassVar[bool] = True

    def options(self) -> dict[str, Any]:
        """Mode-specific adapter options with their defaults."""
        return {}

    def validate(self, options: dict[str, Any]) -> None:  # noqa: B027  (most modes have nothing to check)
        """Raise ValueError for an out-of-range mode option."""

    @abstractmethod
    def prepare(self, pair: PairInput, options: dict[str, Any]) -> PreparedImage: ...

    def to_b_frame(
        self, pair: PairInput, prepared: PreparedImage, found: Candidates, options: dict[str, Any]
    ) -> Candidates:
        """The grounder's boxes in B's frame, ranked; the identity for modes that ground on A or B."""
        return found


class BMode(GroundingMode):
    name = "b"
    description = "grounds the query on image B alone"
    uses_image_a = False

    def prepare(self, pair: PairInput, options: dict[str, Any]) -> PreparedImage:
        return PreparedImage(pair.image_b)


class AMode(GroundingMode):
    name = "a"
    description = "grounds the query on image A alone (where removed objects are still visible)"

    def prepare(self, pair: PairInput, options: dict[str, Any]) -> PreparedImage:
        # A is on B's pixel grid (PairInput guarantees it), so A's boxes are B's boxes.
        return PreparedImage(pair.image_a)


class CanvasMode(GroundingMode):
    name = "canvas"
    description = "grounds on A | B side by side, boxes mapped into B's frame"

    def options(self) -> dict[str, Any]:
        return {"canvas_gap": 0, "a_half_boxes": "map"}

    def validate(self, options: dict[str, Any]) -> None:
        if options["a_half_boxes"] not in A_HALF_POLICIES:
            raise ValueError(f"a_half_boxes must be one of {A_HALF_POLICIES}, got {options['a_half_boxes']!r}")
        if int(options["canvas_gap"]) < 0:
            raise ValueError(f"canvas_gap must be >= 0, got {options['canvas_gap']!r}")

    def prepare(self, pair: PairInput, options: dict[str, Any]) -> PreparedImage:
        canvas, layout = compose_canvas(pair.image_a, pair.image_b, int(options["canvas_gap"]))
        return PreparedImage(canvas, layout)

    def to_b_frame(
        self, pair: PairInput, prepared: PreparedImage, found: Candidates, options: dict[str, Any]
    ) -> Candidates:
        assert prepared.layout is not None
        boxes, scores = canvas_boxes_to_b(found.boxes, found.scores, prepared.layout, options["a_half_boxes"])
        return Candidates(boxes, scores)


def _change_options() -> dict[str, Any]:
    return {"diff_blur_sigma": 1.0, "diff_min_threshold": 0.1}


def _validate_fraction(options: dict[str, Any], key: str) -> None:
    if not 0.0 <= float(options[key]) <= 1.0:
        raise ValueError(f"{key} must be in [0, 1], got {options[key]!r}")


def change_mask(pair: PairInput, options: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """pixel-diff's change map of the pair and its cleaned, thresholded mask (both (H, W) of B)."""
    diff = change_map(pair.image_a, pair.image_b, float(options["diff_blur_sigma"]), "rgb-max")
    mask = diff > change_threshold(diff, float(options["diff_min_threshold"]))
    return diff, clean_mask(mask, opening_radius=1, closing_radius=2)


class DiffImageMode(GroundingMode):
    name = "diffimg"
    description = "grounds on B with unchanged pixels dimmed by the pixel-difference mask"

    def options(self) -> dict[str, Any]:
        return {**_change_options(), "dim_brightness": 0.3, "dim_margin": 4}

    def validate(self, options: dict[str, Any]) -> None:
        _validate_fraction(options, "dim_brightness")
        if int(options["dim_margin"]) < 0:
            raise ValueError(f"dim_margin must be >= 0, got {options['dim_margin']!r}")

    def prepare(self, pair: PairInput, options: dict[str, Any]) -> PreparedImage:
        _, mask = change_mask(pair, options)
        margin = int(options["dim_margin"])
        if margin > 0 and mask.any():
            # A margin of context around each change helps the grounder see the object's outline.
            mask = ndimage.binary_dilation(mask, iterations=margin)
        gain = np.where(mask, 1.0, float(options["dim_brightness"]))[..., None]
        pixels = np.asarray(pair.image_b, dtype=np.float32) * gain
        return PreparedImage(Image.fromarray(np.rint(pixels).clip(0, 255).astype(np.uint8), "RGB"))


class ChangeRankMode(GroundingMode):
    name = "cdrank"
    description = "grounds on B, re-ranks its boxes by IoU with the pixel-difference change regions"

    def options(self) -> dict[str, Any]:
        return {**_change_options(), "change_weight": 0.5}

    def validate(self, options: dict[str, Any]) -> None:
        _validate_fraction(options, "change_weight")

    def prepare(self, pair: PairInput, options: dict[str, Any]) -> PreparedImage:
        return PreparedImage(pair.image_b)

    def to_b_frame(
        self, pair: PairInput, prepared: PreparedImage, found: Candidates, options: dict[str, Any]
    ) -> Candidates:
        if len(found.boxes) == 0:
            return found
        diff, mask = change_mask(pair, options)
        regions, _ = component_boxes(diff, mask, min_area=9, edge_fraction=0.5)
        fit = box_iou_matrix(found.boxes, regions).max(axis=1) if len(regions) else np.zeros(len(found.boxes))
        weight = float(options["change_weight"])
        # Both terms lie in [0, 1]: a grounder's probability and a box's best IoU with a change region.
        scores = (1.0 - weight) * found.scores + weight * fit
        order = np.argsort(-scores, kind="stable")
        return Candidates(found.boxes[order], scores[order])


MODES: dict[str, GroundingMode] = {
    mode.name: mode for mode in (BMode(), AMode(), CanvasMode(), DiffImageMode(), ChangeRankMode())
}
