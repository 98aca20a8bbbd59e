"""The probe pairs of the box-convention self-check: one obvious red square added to a plain scene.

Each pair is A, a neutral grey background with a faint seeded texture, and B, the same with one
solid red square drawn on it; the square's box in B's pixels is the known answer. The pairs come
at twelve image sizes and aspect ratios (landscape, portrait, square, 3:1 and 1:2) with the square
at positions spread over the frame, so that a model's answers constrain the x and y coordinate
mappings over the whole image and show whether a wrong frame depends on the image's shape.

The pairs are a function of the seed only: the same seed gives the same pixels and boxes (the last
two seeds' pairs are kept in memory; adapters must not change the images they are given).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from idg_adapters.base import PairInput

Box = tuple[float, float, float, float]

PROBE_QUERY = "the red square that was added"
SQUARE_COLOUR = (220, 30, 30)

PROBE_SIZES: tuple[tuple[int, int], ...] = (
    (320, 240),
    (240, 320),
    (640, 320),
    (512, 512),
    (300, 600),
    (800, 450),
    (450, 800),
    (400, 300),
    (1024, 512),
    (256, 256),
    (600, 200),
    (360, 640),
)
"""(width, height) of each probe pair."""

_CENTRES: tuple[tuple[float, float], ...] = (
    (0.22, 0.24),
    (0.78, 0.30),
    (0.50, 0.50),
    (0.26, 0.76),
    (0.74, 0.78),
    (0.16, 0.50),
    (0.84, 0.55),
    (0.52, 0.18),
    (0.46, 0.84),
    (0.34, 0.36),
    (0.66, 0.64),
    (0.30, 0.60),
)
"""Where each square's centre lies, as fractions of the width and height (jittered by the seed)."""


@dataclass(frozen=True)
class ProbePair:
    """One probe: the pair the model sees and the box of the added square in B's pixels (xyxy)."""

    pair: PairInput
    box: Box

    @property
    def id(self) -> str:
        return self.pair.id

    @property
    def size(self) -> tuple[int, int]:
        return self.pair.size


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A neutral grey (no channel far from the others) with a gentle gradient and fine noise."""
    level = rng.uniform(105, 155)
    angle = rng.uniform(0, 2 * np.pi)
    xs = np.linspace(0, np.cos(angle), width, dtype=np.float32)
    ys = np.linspace(0, np.sin(angle), height, dtype=np.float32)
    grey = level + 18 * (xs[None, :] + ys[:, None] - 0.5) + 6 * rng.standard_normal((height, width), np.float32)
    tint = rng.integers(-3, 4, (height, width, 3), dtype=np.int16)
    return np.clip(grey[..., None] + tint, 0, 255).astype(np.uint8)


def _square(rng: np.random.Generator, width: int, height: int, centre: tuple[float, float]) -> tuple[int, ...]:
    """(x1, y1, x2, y2) of a square inside the image, around `centre` jittered by up to 4%."""
    side = max(12, round(min(width, height) * rng.uniform(0.14, 0.22)))
    cx = (centre[0] + rng.uniform(-0.04, 0.04)) * width
    cy = (centre[1] + rng.uniform(-0.04, 0.04)) * height
    x1 = int(np.clip(round(cx - side / 2), 2, width - side - 2))
    y1 = int(np.clip(round(cy - side / 2), 2, height - side - 2))
    return x1, y1, x1 + side, y1 + side


def probe_pairs(seed: int = 0, sizes: tuple[tuple[int, int], ...] = PROBE_SIZES) -> list[ProbePair]:
    """One probe pair per size, the square's position taken in turn from a spread of centres."""
    return list(_probe_pairs(seed, tuple(sizes)))


@lru_cache(maxsize=2)
def _probe_pairs(seed: int, sizes: tuple[tuple[int, int], ...]) -> tuple[ProbePair, ...]:
    rng = np.random.default_rng(seed)
    probes = []
    for i, (width, height) in enumerate(sizes):
        pixels = _background(rng, width, height)
        x1, y1, x2, y2 = _square(rng, width, height, _CENTRES[i % len(_CENTRES)])
        after = pixels.copy()
        after[y1:y2, x1:x2] = SQUARE_COLOUR
        pair = PairInput(
            id=f"box-check-{i:02d}-{width}x{height}",
            image_a=Image.fromarray(pixels, "RGB"),
            image_b=Image.fromarray(after, "RGB"),
            query=PROBE_QUERY,
        )
        probes.append(ProbePair(pair, (float(x1), float(y1), float(x2), float(y2))))
    return tuple(probes)
