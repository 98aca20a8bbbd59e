"""Side-by-side canvas of A and B for single-image grounders, and exact box mapping back to B.

A sits at x = 0, B at x = W + gap, both at y = 0, so a canvas box maps to B's frame by one
horizontal shift; A shares B's pixel grid, so a box on A's half maps across by a shift too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

A_HALF_POLICIES = ("map", "drop")
GAP_COLOUR = (0, 0, 0)


@dataclass(frozen=True)
class CanvasLayout:
    """Where A and B lie on the canvas: both `width` x `height`, B shifted right by `b_offset`."""

    width: int
    height: int
    gap: int = 0

    @property
    def b_offset(self) -> int:
        return self.width + self.gap

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the whole canvas."""
        return 2 * self.width + self.gap, self.height


def compose_canvas(image_a: Image.Image, image_b: Image.Image, gap: int = 0) -> tuple[Image.Image, CanvasLayout]:
    """A | gap | B on one RGB image; A and B must share a size (as PairInput guarantees)."""
    if image_a.size != image_b.size:
        raise ValueError(f"A {image_a.size} and B {image_b.size} must share a size to share a canvas")
    if gap < 0:
        raise ValueError(f"canvas gap must be >= 0, got {gap}")
    layout = CanvasLayout(image_b.width, image_b.height, gap)
    canvas = Image.new("RGB", layout.size, GAP_COLOUR)
    canvas.paste(image_a, (0, 0))
    canvas.paste(image_b, (layout.b_offset, 0))
    return canvas, layout


def canvas_boxes_to_b(
    boxes: np.ndarray, scores: np.ndarray, layout: CanvasLayout, a_half: str = "map"
) -> tuple[np.ndarray, np.ndarray]:
    """Canvas boxes (xyxy) into B's frame; scores follow their boxes, order kept.

    A box belongs to the half holding its centre (a box straddling both is judged by where most of
    it is). B-half boxes shift left by `b_offset`; A-half boxes are shifted from A's half into B's
    frame (`a_half="map"`: where a removed object was) or dropped (`"drop"`). Boxes are clipped to
    B's frame afterwards, since a box straddling the seam overhangs it.
    """
    if a_half not in A_HALF_POLICIES:
        raise ValueError(f"a_half must be one of {A_HALF_POLICIES}, got {a_half!r}")
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2.0
    # The gap's midpoint splits the halves, so every centre belongs to exactly one of them.
    in_b = centre_x >= layout.width + layout.gap / 2.0
    shift = np.where(in_b, float(layout.b_offset), 0.0)
    mapped = boxes - np.stack([shift, np.zeros_like(shift), shift, np.zeros_like(shift)], axis=1)
    keep = in_b | (a_half == "map")
    mapped, scores = mapped[keep], scores[keep]
    mapped[:, [0, 2]] = mapped[:, [0, 2]].clip(0.0, layout.width)
    mapped[:, [1, 3]] = mapped[:, [1, 3]].clip(0.0, layout.height)
    return mapped, scores
