"""`pixel-diff`: the classic change-detection baseline (colour difference, Otsu, components).

It ignores the query, so on a pair with several differences it can at best rank them by size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.filters import threshold_otsu

from idg_adapters.base import Adapter, PairInput, Prediction
from idg_adapters.recent_pairs import RecentPairs
from idg_adapters.registry import register

DISTANCES = ("rgb-max", "lab")
# CIELAB distances span about 0..100 per unit step of L; dividing keeps every option on a 0..1 scale.
_LAB_SCALE = 100.0


def _as_float_rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / 255.0


def change_map(image_a: Image.Image, image_b: Image.Image, blur_sigma: float, distance: str) -> np.ndarray:
    """Per-pixel colour difference of A and B in [0, 1], shape (H, W), after a spatial Gaussian blur."""
    a = _as_float_rgb(image_a)
    b = _as_float_rgb(image_b)
    if blur_sigma > 0:
        # Blur each image (not the difference) so sensor noise averages out before the max/norm.
        sigma = (blur_sigma, blur_sigma, 0.0)
        a = ndimage.gaussian_filter(a, sigma=sigma, mode="nearest")
        b = ndimage.gaussian_filter(b, sigma=sigma, mode="nearest")
    if distance == "lab":
        diff = np.linalg.norm(rgb2lab(a) - rgb2lab(b), axis=-1) / _LAB_SCALE
    else:
        diff = np.abs(a - b).max(axis=-1)
    return np.clip(diff, 0.0, 1.0).astype(np.float32)


def change_threshold(diff: np.ndarray, min_threshold: float) -> float:
    """Otsu's threshold on the change map, never below `min_threshold`.

    The floor is what makes an unchanged (or noise-only) pair yield no boxes: Otsu alone always
    splits a histogram in two, even when both halves are noise.
    """
    if diff.size == 0 or float(diff.max()) <= min_threshold:
        return float("inf")
    if float(diff.min()) == float(diff.max()):
        return min_threshold
    return max(float(threshold_otsu(diff)), min_threshold)


def _disk(radius: int) -> np.ndarray:
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (xx**2 + yy**2) <= radius**2


def clean_mask(mask: np.ndarray, opening_radius: int, closing_radius: int) -> np.ndarray:
    """Opening drops speckle; closing joins the fragments of one changed object."""
    if opening_radius > 0:
        mask = ndimage.binary_opening(mask, structure=_disk(opening_radius))
    if closing_radius > 0:
        # Pad first: scipy's closing erodes from a zero border and would eat changes at the edge.
        pad = closing_radius
        padded = np.pad(mask, pad, mode="edge")
        mask = ndimage.binary_closing(padded, structure=_disk(closing_radius))[pad:-pad, pad:-pad]
    return mask


def component_boxes(
    diff: np.ndarray, mask: np.ndarray, min_area: int, edge_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (xyxy, pixel edges) of the connected components of `mask` and their change mass.

    The blur spreads each change by a pixel or two; a blurred step crosses half its height at
    the true edge, so a box is drawn around the pixels of its component whose difference is at
    least `edge_fraction` of the component's mean difference.
    """
    labels, count = ndimage.label(mask)
    if count == 0:
        return np.zeros((0, 4)), np.zeros(0)
    index = np.arange(1, count + 1)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    masses = np.asarray(ndimage.sum_labels(diff, labels, index=index), dtype=np.float64)
    means = np.concatenate([[0.0], masses / np.maximum(areas, 1)])
    core = np.where(diff >= edge_fraction * means[labels], labels, 0)
    # The component's maximum always passes (max >= mean >= fraction * mean), so no slice is None.
    slices = ndimage.find_objects(core, max_label=count)
    boxes = np.array([(sx.start, sy.start, sx.stop, sy.stop) for sy, sx in slices], dtype=np.float64)
    keep = areas >= min_area
    return boxes[keep], masses[keep]


@register("pixel-diff")
class PixelDiffAdapter(Adapter):
    description = "Colour difference of A and B, Otsu threshold, connected components ranked by change mass."
    uses_query = False
    version = "2"  # 2: Prediction.mask is the cleaned binary change mask, not the continuous diff map

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if self.options["distance"] not in DISTANCES:
            raise ValueError(f"pixel-diff: distance must be one of {DISTANCES}, got {self.options['distance']!r}")
        for key in ("min_area", "max_boxes", "opening_radius", "closing_radius"):
            if int(self.options[key]) < 0:
                raise ValueError(f"pixel-diff: {key} must be >= 0, got {self.options[key]!r}")
        # The answer depends on the pair alone: a pair's 2-4 queries cost one computation.
        self._recent: RecentPairs[tuple[np.ndarray, np.ndarray, np.ndarray]] = RecentPairs()

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        return {
            "blur_sigma": 1.0,
            "distance": "rgb-max",
            "min_threshold": 0.1,
            "min_area": 9,
            "opening_radius": 1,
            "closing_radius": 2,
            "edge_fraction": 0.5,
            "max_boxes": 10,
        }

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return [self.predict_one(pair) for pair in batch]

    def predict_one(self, pair: PairInput) -> Prediction:
        boxes, masses, mask = self._recent.get(pair, self._boxes_and_mask)
        # The mask is the final binary change decision (what pixel-level change metrics score).
        prediction = Prediction.ranked(boxes, masses, mask=mask.copy())
        max_boxes = int(self.options["max_boxes"])
        prediction.boxes = prediction.boxes[:max_boxes]
        prediction.scores = prediction.scores[:max_boxes]
        return prediction

    def _boxes_and_mask(self, pair: PairInput) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        opts = self.options
        diff = change_map(pair.image_a, pair.image_b, float(opts["blur_sigma"]), opts["distance"])
        mask = diff > change_threshold(diff, float(opts["min_threshold"]))
        mask = clean_mask(mask, int(opts["opening_radius"]), int(opts["closing_radius"]))
        boxes, masses = component_boxes(diff, mask, int(opts["min_area"]), float(opts["edge_fraction"]))
        return boxes, masses, mask
