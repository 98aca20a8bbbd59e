"""Camera nuisance for test-robust (generator version 2): B re-rendered the way a real edited photo
differs from its original even where nothing was edited.

  - misregistration: a shift of 0.25 to 3 px in a random direction and a rotation of up to 1 degree
    about the centre (robust.py's warp: bilinear for B, nearest neighbour for masks and footprints);
  - global photometric change, applied in linear light (gamma 2.2): exposure of +-0.1 to 0.5 EV,
    white balance (red and blue gains 0.9 to 1.1 against green), contrast 0.9 to 1.1;
  - sensor noise: Gaussian, variance read_sigma**2 + shot_gain * level (read_sigma 1 to 3,
    shot_gain 0 to 0.04, in 8-bit levels);
  - JPEG compression at quality 60 to 92 when B is saved.
Parameters and noise come from the pair's own nuisance stream, never from the scene's, so a pair
drawn with and without nuisance shows the same scene and edits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.data.synth.robust import warp_image, warp_mask

SHIFT_RANGE_PX = (0.25, 3.0)
MAX_ROTATION_DEG = 1.0
EXPOSURE_RANGE_EV = (0.1, 0.5)  # magnitude; the sign is drawn
WHITE_BALANCE_RANGE = (0.9, 1.1)
CONTRAST_RANGE = (0.9, 1.1)
READ_SIGMA_RANGE = (1.0, 3.0)
SHOT_GAIN_RANGE = (0.0, 0.04)
JPEG_QUALITY_RANGE = (60, 92)
GAMMA = 2.2


@dataclass(frozen=True)
class NuisanceParams:
    """How B was re-rendered; stored per sample under attributes["robust"]."""

    shift_px: tuple[float, float]
    rotation_deg: float
    exposure_ev: float
    white_balance: tuple[float, float, float]  # RGB gains
    contrast: float
    read_sigma: float
    shot_gain: float
    jpeg_quality: int

    def to_dict(self) -> dict:
        return {
            "shift_px": list(self.shift_px),
            "rotation_deg": self.rotation_deg,
            "exposure_ev": self.exposure_ev,
            "white_balance": list(self.white_balance),
            "contrast": self.contrast,
            "read_sigma": self.read_sigma,
            "shot_gain": self.shot_gain,
            "jpeg_quality": self.jpeg_quality,
        }


def draw_nuisance(rng: np.random.Generator) -> NuisanceParams:
    radius = float(rng.uniform(*SHIFT_RANGE_PX))
    angle = float(rng.uniform(0.0, 2 * math.pi))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    return NuisanceParams(
        shift_px=(round(radius * math.cos(angle), 3), round(radius * math.sin(angle), 3)),
        rotation_deg=round(float(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG)), 3),
        exposure_ev=round(sign * float(rng.uniform(*EXPOSURE_RANGE_EV)), 3),
        white_balance=(
            round(float(rng.uniform(*WHITE_BALANCE_RANGE)), 3),
            1.0,
            round(float(rng.uniform(*WHITE_BALANCE_RANGE)), 3),
        ),  # fmt: skip
        contrast=round(float(rng.uniform(*CONTRAST_RANGE)), 3),
        read_sigma=round(float(rng.uniform(*READ_SIGMA_RANGE)), 3),
        shot_gain=round(float(rng.uniform(*SHOT_GAIN_RANGE)), 4),
        jpeg_quality=int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1)),
    )


def photometric_table(params: NuisanceParams) -> np.ndarray:
    """(256, 3) float32 output level per input level and channel: exposure, white balance, contrast."""
    levels = np.arange(256, dtype=np.float64) / 255.0
    linear = levels[:, None] ** GAMMA * (2.0**params.exposure_ev) * np.array(params.white_balance)[None, :]
    encoded = np.clip(linear, 0.0, 1.0) ** (1.0 / GAMMA)
    return (((encoded - 0.5) * params.contrast + 0.5) * 255.0).astype(np.float32)


def render_nuisance(image: np.ndarray, params: NuisanceParams, rng: np.random.Generator) -> np.ndarray:
    """B warped, photometrically changed and noised (JPEG compression happens when it is saved)."""
    warped = warp_image(image, params)
    table = photometric_table(params)
    pixels = np.stack([table[warped[..., c], c] for c in range(3)], axis=-1)
    sigma = np.sqrt(params.read_sigma**2 + params.shot_gain * np.clip(pixels, 0.0, None))
    pixels += sigma * rng.standard_normal(pixels.shape, dtype=np.float32)
    return np.clip(pixels + 0.5, 0, 255).astype(np.uint8)


__all__ = ["NuisanceParams", "draw_nuisance", "photometric_table", "render_nuisance", "warp_mask"]
