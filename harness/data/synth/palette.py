"""Named object colours, sizes and fill textures of DiffGround-Synth, and how a fill is painted.

Object colours are saturated so they stand out from the muted backgrounds (see backgrounds.py).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 38, 38),
    "orange": (245, 130, 20),
    "yellow": (250, 215, 30),
    "green": (40, 170, 60),
    "blue": (35, 90, 225),
    "purple": (135, 55, 200),
    "pink": (245, 110, 180),
    "cyan": (30, 200, 215),
    "white": (248, 248, 248),
    "black": (25, 25, 25),
}

TEXTURES: tuple[str, ...] = ("flat", "striped", "dotted", "checkered")

# Object extent (patch side) as a fraction of the scene's shorter side, per size class.
SIZE_FRACTIONS: dict[str, tuple[float, float]] = {
    "small": (0.10, 0.12),
    "medium": (0.15, 0.18),
    "large": (0.22, 0.25),
}
SIZES: tuple[str, ...] = tuple(SIZE_FRACTIONS)


def secondary_colour(colour: str) -> np.ndarray:
    """The second tone of a patterned fill: lighter for dark colours, darker for light ones."""
    rgb = np.array(COLOURS[colour], dtype=np.float32)
    luminance = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if luminance < 110:
        return rgb + (255.0 - rgb) * 0.55
    return rgb * 0.55


def outline_colour(colour: str) -> np.ndarray:
    """Dark rim that keeps an object's silhouette readable on any background."""
    rgb = np.array(COLOURS[colour], dtype=np.float32)
    if colour == "black":
        return np.array([200.0, 200.0, 200.0], dtype=np.float32)
    return rgb * 0.35


@lru_cache(maxsize=1024)
def texture_pattern(texture: str, side: int) -> np.ndarray:
    """Boolean (side, side) map: True where the secondary tone is painted."""
    if texture not in TEXTURES:
        raise ValueError(f"unknown texture {texture!r}; known: {TEXTURES}")
    yy, xx = np.mgrid[0:side, 0:side]
    # Periods scale with the object so a pattern reads the same at every size.
    period = max(6, side // 5)
    if texture == "flat":
        pattern = np.zeros((side, side), dtype=bool)
    elif texture == "striped":
        pattern = ((xx + yy) % period) < period // 2
    elif texture == "checkered":
        pattern = ((xx // period) + (yy // period)) % 2 == 1
    else:
        cell = max(6, side // 4)
        cy = (yy % cell) - cell / 2 + 0.5
        cx = (xx % cell) - cell / 2 + 0.5
        pattern = cx * cx + cy * cy <= (cell * 0.28) ** 2
    pattern.setflags(write=False)
    return pattern
