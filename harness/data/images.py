"""Safe image loading for datasets: paths stay inside the dataset root, images come out RGB.

A and B are returned on B's pixel grid: when their sizes differ, A is resized to B's size
(bilinear), so that every box, given in B's pixels, lies on both images.
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from harness.errors import ImageLoadError, UnsafePathError


@lru_cache(maxsize=64)
def _resolved_root(root: str) -> str:
    return os.path.realpath(root)


def resolve_dataset_path(root: Path, rel: str) -> Path:
    """`root / rel`, refusing absolute paths and anything that resolves outside `root`.

    Symlinks are followed before the check, so a link cannot smuggle a file in from outside.
    """
    if not isinstance(rel, str) or not rel:
        raise UnsafePathError(f"path {rel!r} must be a non-empty relative path")
    if rel.startswith(("/", "\\")) or Path(rel).is_absolute() or (len(rel) > 1 and rel[1] == ":"):
        raise UnsafePathError(f"path {rel!r} is absolute; manifest paths must be relative to the dataset root")
    root_resolved = _resolved_root(str(root))
    path = _realpath_within(root_resolved, rel)
    if path is None:
        raise UnsafePathError(f"path {rel!r} escapes the dataset root {root_resolved}")
    return Path(path)


@lru_cache(maxsize=1 << 16)
def _realpath_within(root_resolved: str, rel: str) -> str | None:
    """Resolved path of `rel` under the root, or None if it lands outside (memoised: a run asks
    for each image several times)."""
    path = os.path.realpath(os.path.join(root_resolved, rel))
    if path != root_resolved and not path.startswith(root_resolved.rstrip(os.sep) + os.sep):
        return None
    return path


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: scale the used range to 8 bits rather than clipping at 255.
        array = np.asarray(image, dtype=np.float64)
        peak = array.max() if array.size and array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / peak * 255.0, 0, 255).astype(np.uint8), mode="L")
    elif image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(array * (255.0 if array.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB") if image.mode != "RGB" else image


def load_image(path: Path) -> Image.Image:
    """Open, fully decode, apply EXIF orientation and convert to RGB; clear errors otherwise."""
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(f"{path}: file not found")
    if not path.is_file():
        raise ImageLoadError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise ImageLoadError(f"{path}: file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
                image = _to_rgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"{path}: image too large ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"{path}: not an image file PIL can read") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageLoadError(f"{path}: cannot decode image ({exc}); the file may be truncated or corrupt") from exc
    return image


class ImageCache:
    """A small LRU of decoded images: the queries of one pair share their two images."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Path, Image.Image] = OrderedDict()

    def get(self, path: Path) -> Image.Image:
        if path in self._items:
            self._items.move_to_end(path)
            return self._items[path]
        image = load_image(path)
        self._items[path] = image
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return image


def load_pair(
    root: Path, image_a: str, image_b: str, cache: ImageCache | None = None
) -> tuple[Image.Image, Image.Image]:
    """Images A and B of a sample, A mapped onto B's grid (resized) when sizes differ."""
    get = cache.get if cache is not None else load_image
    a = get(resolve_dataset_path(root, image_a))
    b = get(resolve_dataset_path(root, image_b))
    if a.size != b.size:
        a = a.resize(b.size, Image.Resampling.BILINEAR)
    return a, b
