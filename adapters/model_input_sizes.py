"""The size a served model resizes each image to, for prompts whose boxes are on `model-pixels`.

A model such as Qwen2.5-VL answers in pixels of its own resized input, not of the image it was
sent. A local backend reads that size from its processor; behind an HTTP server it is not in the
answer, so the client recomputes it with the model's own resizing rule, named by a `resize` option:

| resize | the model's input size |
|---|---|
| `none` | unknown: answers on `model-pixels` are per-sample errors that say so |
| `qwen2.5-vl` | transformers' `smart_resize` (qwen2_vl image processing): both sides a multiple of 28 (patch 14 x merge 2), the area within [`min_pixels`, `max_pixels`] |

The `min_pixels` / `max_pixels` defaults are those Qwen2.5-VL checkpoints ship in their processor
settings (3136 and 12845056); a server started with other limits needs the same values here.
"""

from __future__ import annotations

import importlib.util

from idg_adapters.base import AdapterUnavailable
from idg_adapters.box_scales import Size

RESIZES = ("none", "qwen2.5-vl")
QWEN25_VL_FACTOR = 28  # patch_size 14 x spatial merge 2
QWEN25_VL_MIN_PIXELS = 56 * 56
QWEN25_VL_MAX_PIXELS = 16384 * 28 * 28


def check_resize(resize: str) -> str:
    if resize not in RESIZES:
        raise ValueError(f"resize must be one of {', '.join(RESIZES)}, got {resize!r}")
    return resize


def check_resize_available(resize: str) -> None:
    """AdapterUnavailable when the package that implements `resize` is missing (found, not imported:
    importing transformers takes seconds)."""
    if resize == "qwen2.5-vl" and importlib.util.find_spec("transformers") is None:
        raise AdapterUnavailable(
            "resize 'qwen2.5-vl' uses transformers' smart_resize, and transformers is not installed",
            "pip install transformers",
        )


def model_input_size(size: Size, resize: str, min_pixels: int, max_pixels: int) -> Size | None:
    """(width, height) the model resizes an image of `size` (w, h) to; None when `resize` is `none`."""
    if check_resize(resize) == "none":
        return None
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    height, width = smart_resize(
        size[1], size[0], factor=QWEN25_VL_FACTOR, min_pixels=min_pixels, max_pixels=max_pixels
    )
    return int(width), int(height)
