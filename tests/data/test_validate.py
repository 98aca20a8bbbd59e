"""Validation names file, line and field for every kind of bad row, and keeps the valid ones."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from harness.data.manifest import read_manifest
from harness.data.validate import validate_dataset
from tests.tiny_dataset import write_tiny_dataset


def _append(root: Path, *lines: str) -> None:
    with (root / "manifest.jsonl").open("a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")


def _row(**overrides) -> str:
    row = {
        "id": "extra",
        "pair_id": "test-000",
        "split": "test",
        "image_a": "images/test-000_a.png",
        "image_b": "images/test-000_b.png",
        "query": "something",
        "box": [1.0, 1.0, 10.0, 10.0],
        "edit_type": "remove",
    }
    row.update(overrides)
    return json.dumps({k: v for k, v in row.items() if v is not ...})


def test_clean_dataset_has_no_problems(tiny_dataset: Path) -> None:
    report = validate_dataset(tiny_dataset)
    assert report.ok
    assert len(report.samples) == 6


def test_every_problem_is_located_and_valid_rows_survive(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_tiny_dataset(root, n_pairs=2)
    (root / "images" / "empty.png").write_bytes(b"")
    (root / "images" / "text.png").write_text("not an image")
    _append(
        root,
        "{broken json",
        _row(id="no-query", query=...),
        _row(id="test-000-d0"),  # duplicate id
        _row(id="outside", box=[1.0, 1.0, 500.0, 10.0]),
        _row(id="flipped", box=[10.0, 1.0, 2.0, 10.0]),
        _row(id="escape", image_a="../secret.png"),
        _row(id="absolute", image_b="/etc/passwd"),
        _row(id="missing", image_b="images/nope.png"),
        _row(id="empty", image_b="images/empty.png"),
        _row(id="text", image_a="images/text.png"),
        _row(id="wrong-width", width=81),
    )
    report = validate_dataset(root)
    by_field = {(p.line, p.field) for p in report.problems}
    assert (5, "<json>") in by_field
    assert (6, "query") in by_field
    assert (7, "id") in by_field
    assert (8, "box") in by_field
    assert (9, "box") in by_field
    assert (10, "image_a") in by_field
    assert (11, "image_b") in by_field
    assert (12, "image_b") in by_field
    assert (13, "image_b") in by_field
    assert (14, "image_a") in by_field
    assert (15, "width") in by_field
    messages = "\n".join(str(p) for p in report.problems)
    assert "escapes the dataset root" in messages
    assert "is absolute" in messages
    assert "file not found" in messages
    assert "empty (0 bytes)" in messages
    assert "manifest.jsonl:7 [sample test-000-d0]" in messages
    assert report.invalid_rows == 11
    assert sorted(s.id for s in report.samples) == sorted(["test-000-d0", "test-000-d1", "test-001-d0", "test-001-d1"])


def test_split_filter_and_mask_size(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_tiny_dataset(root, n_pairs=1)
    write_tiny_dataset(root, n_pairs=1, split="train")
    Image.new("L", (10, 10)).save(root / "images" / "mask.png")
    _append(root, _row(id="masked", mask_b="images/mask.png"))
    report = validate_dataset(root, splits={"train"})
    assert report.ok and {s.split for s in report.samples} == {"train"}
    report = validate_dataset(root, splits={"test"})
    assert [p.field for p in report.problems] == ["mask_b"]


def test_read_manifest_rejects_unknown_fields_and_non_objects(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    root.mkdir()
    (root / "manifest.jsonl").write_text(
        _row(id="a")[:-1] + ', "colour": "red"}\n[1, 2]\n\n' + _row(id="b", box=[0, 0, 2]) + "\n"
    )
    read = read_manifest(root)
    assert read.rows_total == 3
    assert [(p.line, p.field) for p in read.problems] == [(1, "colour"), (2, "<row>"), (4, "box")]
