"""Adapter test fixtures: tiny synthetic scenes (a flat background with coloured rectangles), and
tiny random weights for the adapters that need weights, built once per session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from idg_adapters.base import PairInput
from tests.adapters.tiny_weights import FAMILY_BUILDERS, require_family, save_tiny_open_clip

Rect = tuple[tuple[int, int, int, int], tuple[int, int, int]]
"""((x1, y1, x2, y2) with x2/y2 exclusive, (r, g, b))."""

BACKGROUND = (60, 110, 70)


def draw_scene(
    size: tuple[int, int],
    rects: Sequence[Rect] = (),
    background: tuple[int, int, int] = BACKGROUND,
    noise_sigma: float = 0.0,
    noise_seed: int = 0,
) -> Image.Image:
    """An RGB image of `size` (W, H); `noise_sigma` adds Gaussian noise in 0..255 units."""
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    for (x1, y1, x2, y2), colour in rects:
        draw.rectangle([x1, y1, x2 - 1, y2 - 1], fill=colour)  # PIL's rectangle is inclusive
    if noise_sigma <= 0:
        return image
    rng = np.random.default_rng(noise_seed)
    pixels = np.asarray(image, dtype=np.float64) + rng.normal(0.0, noise_sigma, size=(size[1], size[0], 3))
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "RGB")


def make_pair(
    sample_id: str,
    size: tuple[int, int],
    rects_a: Sequence[Rect],
    rects_b: Sequence[Rect],
    query: str = "the object that changed",
) -> PairInput:
    return PairInput(id=sample_id, image_a=draw_scene(size, rects_a), image_b=draw_scene(size, rects_b), query=query)


RED = ((10, 8, 26, 24), (210, 40, 40))
BLUE = ((40, 20, 56, 40), (40, 60, 220))
YELLOW = ((30, 50, 60, 70), (230, 220, 40))


def varied_pairs() -> list[PairInput]:
    """Pairs of different sizes and edit types, enough to catch batch-composition bugs."""
    moved_blue = ((8, 28, 24, 44), BLUE[1])
    return [
        make_pair("removed-64x48", (64, 48), [RED, BLUE], [BLUE], "the thing that is gone"),
        make_pair("added-80x80", (80, 80), [RED], [RED, YELLOW], "the new thing"),
        make_pair("moved-64x48", (64, 48), [RED, BLUE], [RED, moved_blue], "where the blue one went"),
        make_pair("recoloured-80x80", (80, 80), [YELLOW], [((30, 50, 60, 70), (40, 200, 200))], "the recoloured one"),
    ]


@pytest.fixture
def pairs() -> list[PairInput]:
    return varied_pairs()


@pytest.fixture
def scene():
    """The `draw_scene` function, for tests that build their own images."""
    return draw_scene


@pytest.fixture
def pair_factory():
    """The `make_pair` function, for tests that build their own pairs."""
    return make_pair


@pytest.fixture(scope="session")
def tiny_grounder_options(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """family -> adapter options pointing at that family's tiny saved model (built on first use)."""
    built: dict[str, dict[str, Any]] = {}

    def options(family: str) -> dict[str, Any]:
        require_family(family)
        if family not in built:
            built[family] = FAMILY_BUILDERS[family](tmp_path_factory.mktemp(f"tiny-{family}"))
        return dict(built[family])

    return options


@pytest.fixture(scope="session")
def tiny_clip_options(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """cd-rerank-clip options naming a tiny random open_clip model (JSON config + safetensors)."""
    pytest.importorskip("open_clip", reason="open-clip-torch is not installed (pip install open-clip-torch)")
    return dict(save_tiny_open_clip(tmp_path_factory.mktemp("tiny-clip")))


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """VLM family key (`qwen2-vl`, ...) -> `vlm-hf-<key>` options naming that family's tiny saved
    model (tests/adapters/tiny_vlms.py; built on first use, once per session)."""
    from tests.adapters.tiny_vlms import VLM_BUILDERS

    built: dict[str, dict[str, Any]] = {}

    def options(key: str) -> dict[str, Any]:
        if key not in built:
            built[key] = VLM_BUILDERS[key](tmp_path_factory.mktemp(f"tiny-vlm-{key}"))
        return dict(built[key])

    return options


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy 2-core machine OpenMP's waiting threads
    made them 10-40x slower (measured); restored afterwards for the rest of the suite."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
