"""A tiny hand-made DiffGround dataset written by tests (two queries per pair)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw


def write_tiny_dataset(root: Path, n_pairs: int = 3, split: str = "test") -> list[dict]:
    """Pairs of 80x64 images: in B one rectangle is removed and another added.

    Returns the manifest rows written (two queries per pair).
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(exist_ok=True)
    rows = []
    for i in range(n_pairs):
        a = Image.new("RGB", (80, 64), (40, 90 + 10 * i, 160))
        b = a.copy()
        removed = (6 + i, 8, 26 + i, 30)
        added = (46, 30 + i, 70, 56)
        ImageDraw.Draw(a).rectangle(removed, fill=(250, 220, 20))
        ImageDraw.Draw(b).rectangle(added, fill=(230, 30, 30))
        pair = f"{split}-{i:03d}"
        a.save(root / "images" / f"{pair}_a.png")
        b.save(root / "images" / f"{pair}_b.png")
        for k, (box, edit, query) in enumerate(
            ((removed, "remove", "the thing that was taken away"), (added, "add", "the new thing"))
        ):
            x1, y1, x2, y2 = box
            rows.append(
                {
                    "id": f"{pair}-d{k}",
                    "pair_id": pair,
                    "split": split,
                    "image_a": f"images/{pair}_a.png",
                    "image_b": f"images/{pair}_b.png",
                    "query": query,
                    "box": [float(x1), float(y1), float(x2 + 1), float(y2 + 1)],
                    "edit_type": edit,
                    "width": 80,
                    "height": 64,
                }
            )
    with (root / "manifest.jsonl").open("a", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    return rows
