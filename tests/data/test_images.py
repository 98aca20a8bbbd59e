"""Image loading: every odd but valid image becomes RGB on B's grid; bad files fail clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.data.images import ImageCache, load_image, load_pair, resolve_dataset_path
from harness.errors import ImageLoadError, UnsafePathError


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16", "LA", "1", "CMYK"])
def test_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "img.png" if mode != "CMYK" else tmp_path / "img.jpg"
    if mode == "I;16":
        Image.fromarray((np.arange(64 * 32).reshape(32, 64) * 30).astype(np.uint16)).save(path)
    else:
        Image.new(mode, (64, 32)).save(path)
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (64, 32)


def test_sixteen_bit_keeps_contrast(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    Image.fromarray(np.array([[0, 30000], [60000, 65535]], dtype=np.uint16)).save(path)
    values = np.asarray(load_image(path))[..., 0]
    assert values.min() == 0 and values.max() == 255 and len(np.unique(values)) == 4


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    Image.new("RGB", (40, 20)).save(path, exif=exif)
    assert load_image(path).size == (20, 40)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", r"empty \(0 bytes\)"), (b"hello, not an image", "not an image file")],
)
def test_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=message):
        load_image(path)


def test_truncated_png(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:400])
    with pytest.raises(ImageLoadError, match="cut.png: cannot decode image"):
        load_image(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="file not found"):
        load_image(tmp_path / "nope.png")


def test_decompression_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (200, 200)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(path)


@pytest.mark.parametrize("rel", ["../x.png", "a/../../x.png", "/etc/passwd", "C:\\x.png", ""])
def test_unsafe_paths(tmp_path: Path, rel: str) -> None:
    with pytest.raises(UnsafePathError):
        resolve_dataset_path(tmp_path, rel)


def test_symlink_escape_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.png").write_bytes(b"x")
    (root / "link.png").symlink_to(tmp_path / "outside.png")
    with pytest.raises(UnsafePathError, match="escapes"):
        resolve_dataset_path(root, "link.png")


def test_pair_maps_a_onto_b_grid(tmp_path: Path) -> None:
    Image.new("RGB", (100, 50), (255, 0, 0)).save(tmp_path / "a.png")
    Image.new("RGB", (50, 25), (0, 0, 255)).save(tmp_path / "b.png")
    cache = ImageCache(capacity=1)
    a, b = load_pair(tmp_path, "a.png", "b.png", cache)
    assert a.size == b.size == (50, 25)
    assert np.asarray(a)[0, 0].tolist() == [255, 0, 0]
