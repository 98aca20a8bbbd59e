"""The coordinate scales a multimodal LLM may answer in, and the mapping of its boxes into pixels.

A prompt declares the scale of the numbers it asks for (`coordinates:` in its YAML); the scale is
never guessed from an answer. Every scale maps to fractions of the image the boxes refer to, and
from there to that image's pixels at the resolution the harness holds:

| scale | a number means | divided by |
|---|---|---|
| `0-1` | a fraction of the width / height | 1 |
| `0-100` | a percentage | 100 |
| `0-1000` | thousandths (Qwen2-VL, Qwen3-VL, InternVL) | 1000 |
| `pixels` | a pixel of the image as it was sent (after `max_image_side`) | the sent size |
| `model-pixels` | a pixel of the model's own resized input (Qwen2.5-VL) | the resized size |
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SCALES = ("0-1", "0-100", "0-1000", "pixels", "model-pixels")
_FIXED = {"0-1": 1.0, "0-100": 100.0, "0-1000": 1000.0}

Size = tuple[int, int]


def check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise ValueError(f"unknown coordinate scale {scale!r}; choose from {', '.join(SCALES)}")
    return scale


def scale_divisors(scale: str, sent_size: Size, model_size: Size | None) -> tuple[float, float]:
    """(x, y) divisors that turn a number on `scale` into a fraction of the image."""
    check_scale(scale)
    if scale in _FIXED:
        return _FIXED[scale], _FIXED[scale]
    if scale == "pixels":
        return float(sent_size[0]), float(sent_size[1])
    if model_size is None:
        raise ValueError("coordinates on 'model-pixels' need the model's resized input size, which is unknown here")
    return float(model_size[0]), float(model_size[1])


def boxes_to_pixels(
    boxes: Sequence[Sequence[float]], scale: str, frame_size: Size, sent_size: Size, model_size: Size | None = None
) -> np.ndarray:
    """Boxes (xyxy on `scale`) in pixels of the frame (width, height) the harness holds."""
    dx, dy = scale_divisors(scale, sent_size, model_size)
    out = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    out[:, 0::2] *= frame_size[0] / dx
    out[:, 1::2] *= frame_size[1] / dy
    return out


def pixels_to_scale(
    boxes: Sequence[Sequence[float]], scale: str, frame_size: Size, sent_size: Size, model_size: Size | None = None
) -> np.ndarray:
    """The inverse of `boxes_to_pixels`: pixel boxes of the frame written on `scale`."""
    dx, dy = scale_divisors(scale, sent_size, model_size)
    out = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    out[:, 0::2] *= dx / frame_size[0]
    out[:, 1::2] *= dy / frame_size[1]
    return out
