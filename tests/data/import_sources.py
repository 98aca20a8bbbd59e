"""Small source files in each import format, with known good and malformed rows, written by the tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from PIL import Image, ImageDraw


def write_image(
    path: Path, size: tuple[int, int], rect: tuple[int, int, int, int] | None = None, shade: int = 0
) -> None:
    """A flat image, with a filled rectangle (the difference) when `rect` is given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, (40 + shade, 90, 160))
    if rect is not None:
        ImageDraw.Draw(image).rectangle(rect, fill=(250, 220, 20))
    image.save(path)


def write_mig_bench(src: Path) -> tuple[Path, list[tuple[float, float, float, float]]]:
    """Records 1, 2, 6 (numbered from 1, as problems name them) are good (1 and 2 share a pair);
    3 has a box outside 0-1, 4 a missing image, 5 three images. Returns the JSON path and the
    expected pixel boxes of the good records."""
    write_image(src / "x" / "001.png", (64, 48))
    write_image(src / "y" / "001.png", (64, 48), rect=(16, 12, 31, 23))  # same name, other folder
    write_image(src / "x" / "002.png", (80, 60))
    write_image(src / "y" / "002.png", (64, 48), rect=(32, 24, 47, 35))  # A and B differ in size
    good = {"task": "static_diff", "images": ["x/001.png", "y/001.png"], "question": "the new yellow thing"}
    records = [
        {**good, "answer": [0.25, 0.25, 0.5, 0.5], "additional_info": {"edit_type": "add", "difficulty": 2}},
        {**good, "question": "the whole left half", "answer": [0.0, 0.0, 0.5, 1.0], "additional_info": {}},
        {**good, "answer": [0.2, 0.2, 1.4, 0.5]},
        {**good, "images": ["x/001.png", "y/missing.png"], "answer": [0.1, 0.1, 0.2, 0.2]},
        {**good, "images": ["x/001.png", "y/001.png", "x/002.png"], "answer": [0.1, 0.1, 0.2, 0.2]},
        {
            "task": "robust_diff",
            "images": ["./x/002.png", "./y/002.png"],
            "question": "the thing in the lower right",
            "answer": [[0.5, 0.5, 0.75, 0.75]],
        },
    ]
    path = src / "mig_bench.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path, [(16.0, 12.0, 32.0, 24.0), (0.0, 0.0, 32.0, 48.0), (32.0, 24.0, 48.0, 36.0)]


def write_csv(src: Path, outside: Path) -> tuple[Path, list[tuple[float, float, float, float]]]:
    """Lines 2, 6, 7 and 8 are good (7 names an absolute path outside `src`, 8 is in train);
    3 has a non-number, 4 a missing image, 5 a box outside B."""
    write_image(src / "pairs" / "a.png", (64, 48))
    write_image(src / "pairs" / "b.png", (64, 48), rect=(10, 10, 29, 19))
    write_image(outside / "b.png", (64, 48), rect=(40, 30, 49, 39), shade=20)
    header = ["image_a", "image_b", "query", "x1", "y1", "x2", "y2", "edit_type", "split", "scene"]
    rows = [
        ["pairs/a.png", "pairs/b.png", "the yellow bar", "10", "10", "30", "20", "add", "", "kitchen"],
        ["pairs/a.png", "pairs/b.png", "broken", "ten", "10", "30", "20", "add", "", "kitchen"],
        ["pairs/a.png", "pairs/nope.png", "missing", "1", "1", "5", "5", "", "", ""],
        ["pairs/a.png", "pairs/b.png", "too big", "10", "10", "300", "20", "", "", ""],
        ["pairs/a.png", "pairs/b.png", "no type given", "0", "0", "64", "48", "", "", "street"],
        ["pairs/a.png", str(outside / "b.png"), "far away", "40", "30", "50", "40", "Replace", "test", ""],
        ["pairs/a.png", "pairs/b.png", "for training", "1", "1", "9", "9", "remove", "train", ""],
    ]
    path = src / "pairs.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path, [(10.0, 10.0, 30.0, 20.0), (0.0, 0.0, 64.0, 48.0), (40.0, 30.0, 50.0, 40.0), (1.0, 1.0, 9.0, 9.0)]


def write_coco_pairs(src: Path) -> tuple[Path, list[tuple[float, float, float, float]]]:
    """Annotations 0 and 1 are good (1 finds its pair by image_id); 2 belongs to a pair whose B id
    is missing, 3 has a zero-width bbox, 4 names no known pair, 5 an image whose declared size is wrong;
    pairs[3] repeats the id of pairs[0]."""
    write_image(src / "img" / "1.png", (64, 48))
    write_image(src / "img" / "2.png", (64, 48), rect=(8, 8, 23, 15))
    write_image(src / "img" / "3.png", (64, 48), shade=30)
    data = {
        "images": [
            {"id": 1, "file_name": "img/1.png", "width": 64, "height": 48},
            {"id": 2, "file_name": "img/2.png", "width": 64, "height": 48, "license": 3},
            {"id": 3, "file_name": "img/3.png"},
            {"id": 4, "file_name": "img/3.png", "width": 100, "height": 100},
        ],
        "pairs": [
            {"id": "p1", "image_a": 1, "image_b": 2, "split": "test"},
            {"id": "p2", "image_a": 1, "image_b": 99},
            {"id": "p3", "image_a": 1, "image_b": 4},
            {"id": "p1", "image_a": 2, "image_b": 1},
        ],
        "annotations": [
            {"id": 10, "pair_id": "p1", "image_id": 2, "bbox": [8, 8, 16, 8], "query": "the bar", "edit_type": "add"},
            {"id": 11, "image_id": 2, "bbox": [0.5, 1.5, 20, 10], "query": "upper left", "category_id": 1},
            {"id": 12, "pair_id": "p2", "bbox": [1, 1, 4, 4], "query": "lost", "edit_type": "remove"},
            {"id": 13, "pair_id": "p1", "bbox": [1, 1, 0, 4], "query": "flat", "edit_type": "remove"},
            {"id": 14, "pair_id": "p42", "bbox": [1, 1, 4, 4], "query": "nowhere"},
            {"id": 15, "pair_id": "p3", "bbox": [1, 1, 4, 4], "query": "wrong size"},
        ],
        "categories": [{"id": 1, "name": "thing"}],
    }
    path = src / "coco_pairs.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, [(8.0, 8.0, 24.0, 16.0), (0.5, 1.5, 20.5, 11.5)]
