"""A minimal, fast PNG writer for 8-bit grey or RGB arrays (about twice as fast as PIL's at level 1).

Rows use one PNG filter for the whole image: "Up" (one numpy subtraction; generator version 1) or
"None" (version 2: on DiffGround-Synth's flat, gradient and posterised photo backgrounds zlib then
finds longer matches, which makes it about 25% faster and the files about 25% smaller). The output
is a standard PNG (no ancillary chunks, so no timestamps) and depends only on the pixels.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILTER_NONE = 0
FILTER_UP = 2
_COLOUR_TYPES = {1: 0, 3: 2}  # channels -> PNG colour type (grey, RGB)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png(pixels: np.ndarray, compress_level: int = 1, row_filter: int = FILTER_UP) -> bytes:
    """PNG bytes of a (H, W) or (H, W, 3) uint8 array, every row filtered with `row_filter`."""
    if pixels.dtype != np.uint8:
        raise ValueError(f"encode_png needs uint8 pixels, got {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    height, width, channels = pixels.shape
    if channels not in _COLOUR_TYPES:
        raise ValueError(f"encode_png handles 1 or 3 channels, got {channels}")
    raw = np.ascontiguousarray(pixels).reshape(height, width * channels)
    rows = np.empty((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 0] = row_filter
    if row_filter == FILTER_UP:
        rows[0, 1:] = raw[0]
        np.subtract(raw[1:], raw[:-1], out=rows[1:, 1:])
    elif row_filter == FILTER_NONE:
        rows[:, 1:] = raw
    else:
        raise ValueError(f"encode_png supports the None (0) and Up (2) filters, got {row_filter}")
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), compress_level))
        + _chunk(b"IEND", b"")
    )
