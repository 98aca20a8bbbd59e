"""Real MIG-Bench records (tests/data/mig_bench/, see its ATTRIBUTION.md) copied to a temporary folder,
with placeholder images written at the paths they name."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from harness.data.importers.mig_bench import DIFFERENCE_TASKS
from tests.data.import_sources import write_image

FIXTURE = Path(__file__).parent / "mig_bench"
REAL_FILE = Path("/tmp/MIG_data.json")  # the whole benchmark file, when a copy is at hand


def fake_images(
    root: Path, records: list[dict], size_of: Callable[[int], tuple[int, int]] = lambda k: (64 + 8 * k, 48 + 4 * k)
) -> dict[str, tuple[int, int]]:
    """A placeholder image at every path the difference records name (relative to `root`, the folder
    holding MIG-Bench/), sized by `size_of(position)`; returns each path's size."""
    sizes: dict[str, tuple[int, int]] = {}
    for record in records:
        if record["task"] not in DIFFERENCE_TASKS:
            continue
        for path in record["images"]:
            if path not in sizes:
                sizes[path] = size_of(len(sizes))
                write_image(root / path, sizes[path])
    return sizes


def copy_fixture(root: Path) -> tuple[Path, list[dict], dict[str, tuple[int, int]]]:
    """The fixture as `root/MIG-Bench/MIG_data.json` with its images under `root/MIG-Bench/images/`:
    (the JSON's path, its records, each image path's size)."""
    shutil.copytree(FIXTURE / "MIG-Bench", root / "MIG-Bench")
    source = root / "MIG-Bench" / "MIG_data.json"
    records = json.loads(source.read_text(encoding="utf-8"))
    return source, records, fake_images(root, records)
