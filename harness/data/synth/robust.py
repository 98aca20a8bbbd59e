"""Robust mode of generator version 1: misregister image B (shift + small rotation), jitter its
brightness and contrast, JPEG-compress it. Version 2 uses nuisance.py, which reuses the warp here.

Masks and footprints go through the same affine warp (nearest neighbour), so boxes stay in B's frame.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
from PIL import Image

MAX_SHIFT_PX = 4.0
MAX_ROTATION_DEG = 2.0
JPEG_QUALITY_RANGE = (70, 92)


class Misregistration(Protocol):
    """What the warp reads: RobustParams here and NuisanceParams (nuisance.py) both have it."""

    shift_px: tuple[float, float]
    rotation_deg: float


@dataclass(frozen=True)
class RobustParams:
    """How B was perturbed; stored per sample under attributes["robust"]."""

    shift_px: tuple[float, float]
    rotation_deg: float
    brightness: float
    contrast: float
    jpeg_quality: int

    def to_dict(self) -> dict:
        out = asdict(self)
        out["shift_px"] = list(self.shift_px)
        return out


def draw_robust_params(rng: np.random.Generator) -> RobustParams:
    return RobustParams(
        shift_px=(
            round(float(rng.uniform(-MAX_SHIFT_PX, MAX_SHIFT_PX)), 2),
            round(float(rng.uniform(-MAX_SHIFT_PX, MAX_SHIFT_PX)), 2),
        ),  # fmt: skip
        rotation_deg=round(float(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG)), 3),
        brightness=round(float(rng.uniform(0.9, 1.1)), 3),
        contrast=round(float(rng.uniform(0.85, 1.15)), 3),
        jpeg_quality=int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1)),
    )


def _inverse_affine(params: Misregistration, width: int, height: int) -> tuple[float, ...]:
    """PIL's AFFINE maps output to input: undo the shift, then the rotation about the centre."""
    theta = math.radians(params.rotation_deg)
    cos, sin = math.cos(theta), math.sin(theta)
    cx, cy = width / 2, height / 2
    dx, dy = params.shift_px
    # input = R(-theta) @ (output - centre - shift) + centre
    a, b = cos, sin
    d, e = -sin, cos
    ox, oy = -cx - dx, -cy - dy
    return (a, b, a * ox + b * oy + cx, d, e, d * ox + e * oy + cy)


def warp_image(image: np.ndarray, params: Misregistration) -> np.ndarray:
    """B shifted and rotated (bilinear); uncovered border pixels take the image's mean colour."""
    height, width = image.shape[:2]
    fill = tuple(int(v) for v in image.reshape(-1, 3).mean(axis=0))
    warped = Image.fromarray(image).transform(
        (width, height),
        Image.Transform.AFFINE,
        _inverse_affine(params, width, height),
        resample=Image.Resampling.BILINEAR,
        fillcolor=fill,
    )
    return np.asarray(warped)


def perturb_image(image: np.ndarray, params: RobustParams) -> np.ndarray:
    """Warped and photometrically jittered B (JPEG compression happens when it is saved)."""
    pixels = warp_image(image, params).astype(np.float32)
    pixels = ((pixels - 128.0) * params.contrast + 128.0) * params.brightness
    return np.clip(pixels + 0.5, 0, 255).astype(np.uint8)


def warp_mask(mask: np.ndarray, params: Misregistration) -> np.ndarray:
    """A boolean mask moved exactly like B's pixels (nearest neighbour, so subsets stay subsets)."""
    height, width = mask.shape
    warped = Image.fromarray(mask.astype(np.uint8) * 255).transform(
        (width, height),
        Image.Transform.AFFINE,
        _inverse_affine(params, width, height),
        resample=Image.Resampling.NEAREST,
        fillcolor=0,
    )
    return np.asarray(warped) > 127
