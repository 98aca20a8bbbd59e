"""Shape categories of DiffGround-Synth as antialiased alpha masks (drawn 4x supersampled, cached)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from harness.data.synth.palette import COLOURS, outline_colour, secondary_colour, texture_pattern

SHAPES: tuple[str, ...] = (
    "disc",
    "square",
    "triangle",
    "star",
    "hexagon",
    "diamond",
    "cross",
    "ring",
    "crescent",
    "heart",
)

SUPERSAMPLE = 4
# Alpha at or above this counts as the object's footprint (boxes and masks use it).
FOOTPRINT_ALPHA = 0.5


def _regular_polygon(cx: float, cy: float, radius: float, n: int, phase: float) -> list[tuple[float, float]]:
    return [
        (cx + radius * math.cos(phase + 2 * math.pi * k / n), cy + radius * math.sin(phase + 2 * math.pi * k / n))
        for k in range(n)
    ]


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, size: int) -> None:
    """Draw `shape` filling (most of) a size x size canvas in white on black."""
    c = size / 2
    r = size * 0.48
    if shape == "disc":
        draw.ellipse([c - r, c - r, c + r, c + r], fill=255)
    elif shape == "square":
        h = r * 0.86
        draw.rectangle([c - h, c - h, c + h, c + h], fill=255)
    elif shape == "triangle":
        draw.polygon([(c, c - r), (c + r, c + r * 0.8), (c - r, c + r * 0.8)], fill=255)
    elif shape == "star":
        points = []
        for k in range(10):
            radius = r if k % 2 == 0 else r * 0.45
            angle = -math.pi / 2 + math.pi * k / 5
            points.append((c + radius * math.cos(angle), c + 0.1 * r + radius * math.sin(angle)))
        draw.polygon(points, fill=255)
    elif shape == "hexagon":
        draw.polygon(_regular_polygon(c, c, r, 6, 0.0), fill=255)
    elif shape == "diamond":
        draw.polygon([(c, c - r), (c + r * 0.75, c), (c, c + r), (c - r * 0.75, c)], fill=255)
    elif shape == "cross":
        arm = r * 0.34
        draw.rectangle([c - arm, c - r, c + arm, c + r], fill=255)
        draw.rectangle([c - r, c - arm, c + r, c + arm], fill=255)
    elif shape == "ring":
        draw.ellipse([c - r, c - r, c + r, c + r], fill=255)
        inner = r * 0.55
        draw.ellipse([c - inner, c - inner, c + inner, c + inner], fill=0)
    elif shape == "crescent":
        draw.ellipse([c - r, c - r, c + r, c + r], fill=255)
        shift = r * 0.55
        draw.ellipse([c - r + shift, c - r - shift * 0.3, c + r + shift, c + r - shift * 0.3], fill=0)
    elif shape == "heart":
        lobe = r * 0.52
        top = c - r * 0.35
        draw.ellipse([c - 2 * lobe, top - lobe, c, top + lobe], fill=255)
        draw.ellipse([c, top - lobe, c + 2 * lobe, top + lobe], fill=255)
        draw.polygon(
            [(c - 2 * lobe + 1, top + lobe * 0.25), (c + 2 * lobe - 1, top + lobe * 0.25), (c, c + r)], fill=255
        )
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {SHAPES}")


@lru_cache(maxsize=2048)
def shape_alpha(shape: str, side: int) -> np.ndarray:
    """(side, side) float32 coverage in [0, 1]; the 4x-supersampled drawing box-filtered down."""
    big = Image.new("L", (side * SUPERSAMPLE, side * SUPERSAMPLE), 0)
    _draw_shape(ImageDraw.Draw(big), shape, side * SUPERSAMPLE)
    small = big.resize((side, side), Image.Resampling.BOX)
    alpha = np.asarray(small, dtype=np.float32) / 255.0
    alpha.setflags(write=False)
    return alpha


@lru_cache(maxsize=2048)
def _outline_weight(shape: str, side: int) -> np.ndarray:
    """Weight of the dark rim: alpha minus alpha eroded by a couple of pixels."""
    alpha = shape_alpha(shape, side)
    width = max(1, side // 28)
    padded = np.pad(alpha, width)
    eroded = alpha.copy()
    for dy in range(-width, width + 1):
        for dx in range(-width, width + 1):
            window = padded[width + dy : width + dy + side, width + dx : width + dx + side]
            np.minimum(eroded, window, out=eroded)
    rim = np.clip(alpha - eroded, 0.0, 1.0)
    rim.setflags(write=False)
    return rim


# Bounded: a sprite is at most 128 x 128 x 3 floats, so this stays under ~200 MB even when full.
@lru_cache(maxsize=1024)
def _tone_weights(shape: str, texture: str, side: int) -> np.ndarray:
    """(side, side, 3) premultiplied weights of the base tone, the pattern tone and the rim."""
    alpha = shape_alpha(shape, side)
    rim = _outline_weight(shape, side)
    pattern = texture_pattern(texture, side)
    body = alpha * (1.0 - rim)
    weights = np.stack([np.where(pattern, 0.0, body), np.where(pattern, body, 0.0), alpha * rim], axis=-1)
    weights = weights.astype(np.float32)
    weights.setflags(write=False)
    return weights


def object_sprite(shape: str, colour: str, texture: str, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Premultiplied (side, side, 3) RGB and (side, side, 1) alpha, ready to composite.

    Colour is applied last (one small matrix product) so the cache is keyed on shape, texture and
    size only, which keeps it small and its hit rate high.
    """
    tones = np.stack(
        [np.array(COLOURS[colour], dtype=np.float32), secondary_colour(colour), outline_colour(colour)]
    ).astype(np.float32)
    premultiplied = _tone_weights(shape, texture, side) @ tones
    return premultiplied, shape_alpha(shape, side)[..., None]
