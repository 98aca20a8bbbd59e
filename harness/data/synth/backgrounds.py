"""Scene backgrounds: flat, linear gradient, and tinted crops of scikit-image's bundled photo textures.

The photo textures (skimage.data brick, grass, gravel) ship inside the scikit-image package (no
download) and are CC0-licensed; their provenance is recorded in dataset.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

BACKGROUND_KINDS: tuple[str, ...] = ("flat", "gradient", "brick", "grass", "gravel")
PHOTO_TEXTURES: tuple[str, ...] = ("brick", "grass", "gravel")
PHOTO_TEXTURE_PROVENANCE = (
    "Photo backgrounds are tinted crops of scikit-image's bundled sample images brick, grass and "
    "gravel (skimage.data; originals from cc0textures.com and DeviantArt, CC0-1.0)."
)

# Muted tones only: objects use the saturated palette, so they stay distinct from the background.
MUTED_TONES: tuple[tuple[int, int, int], ...] = (
    (200, 196, 186),
    (168, 178, 170),
    (150, 160, 178),
    (120, 118, 126),
    (186, 170, 150),
    (96, 108, 104),
    (210, 208, 214),
    (140, 128, 112),
)


@dataclass(frozen=True)
class BackgroundSpec:
    """What was drawn behind the objects (recorded so a pair can be described and reproduced)."""

    kind: str
    tone: tuple[int, int, int]
    second_tone: tuple[int, int, int]
    angle_deg: float
    crop_xy: tuple[int, int]


@lru_cache(maxsize=4)
def _photo_texture(name: str) -> np.ndarray:
    """The (512, 512) grey photo as uint8 shading levels, contrast-stretched and posterised.

    Sixteen levels keep the photo's look but make the PNGs about a quarter faster to compress.
    """
    from skimage import data

    grey = getattr(data, name)().astype(np.float32)
    lo, hi = np.percentile(grey, [2, 98])
    levels = np.clip((grey - lo) / max(hi - lo, 1.0) * 255.0, 0, 255).astype(np.uint8)
    levels = (levels // 16) * 17
    levels.setflags(write=False)
    return levels


def _tint_table(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """(256, 3) uint8 lookup from a shading level to a colour between `low` and `high`."""
    t = np.linspace(0.0, 1.0, 256, dtype=np.float32)[:, None]
    return np.clip(low + t * (high - low) + 0.5, 0, 255).astype(np.uint8)


def draw_background_spec(rng: np.random.Generator, width: int, height: int) -> BackgroundSpec:
    fits_photo = width <= 512 and height <= 512
    kinds = BACKGROUND_KINDS if fits_photo else ("flat", "gradient")
    kind = kinds[int(rng.integers(len(kinds)))]
    tone_index, second_index = rng.choice(len(MUTED_TONES), size=2, replace=False)
    max_x = 512 - width if kind in PHOTO_TEXTURES else 0
    max_y = 512 - height if kind in PHOTO_TEXTURES else 0
    return BackgroundSpec(
        kind=kind,
        tone=MUTED_TONES[int(tone_index)],
        second_tone=MUTED_TONES[int(second_index)],
        angle_deg=float(rng.uniform(0, 360)),
        crop_xy=(int(rng.integers(max_x + 1)), int(rng.integers(max_y + 1))),
    )


def render_background(spec: BackgroundSpec, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 background; shading levels go through a colour lookup table (fast)."""
    tone = np.array(spec.tone, dtype=np.float32)
    if spec.kind == "flat":
        return np.broadcast_to(np.array(spec.tone, dtype=np.uint8), (height, width, 3)).copy()
    if spec.kind == "gradient":
        angle = math.radians(spec.angle_deg)
        xs = (np.arange(width, dtype=np.float32) - width / 2) * math.cos(angle)
        ys = (np.arange(height, dtype=np.float32) - height / 2) * math.sin(angle)
        lo = float(xs.min() + ys.min())
        span = max(float(xs.max() + ys.max()) - lo, 1.0)
        levels = ((ys[:, None] - lo) * (255.0 / span) + xs[None, :] * (255.0 / span)).astype(np.uint8)
        return np.take(_tint_table(tone, np.array(spec.second_tone, dtype=np.float32)), levels, axis=0)
    if spec.kind not in PHOTO_TEXTURES:
        raise ValueError(f"unknown background kind {spec.kind!r}; known: {BACKGROUND_KINDS}")
    if width > 512 or height > 512:
        raise ValueError(f"photo backgrounds are 512x512; scene {width}x{height} is larger")
    x, y = spec.crop_xy
    levels = _photo_texture(spec.kind)[y : y + height, x : x + width]
    # Softened (55%..100% of the tone) so texture edges do not compete with object outlines.
    return np.take(_tint_table(tone * 0.55, tone), levels, axis=0)
