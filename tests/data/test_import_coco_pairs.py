"""COCO-pairs import: xywh -> xyxy, pairs found by id or by B image, every broken pair and annotation reported."""

from __future__ import annotations

from pathlib import Path

from harness.cli import main
from harness.data.importers import import_dataset
from harness.data.manifest import read_manifest
from harness.data.validate import validate_dataset
from tests.data.import_sources import write_coco_pairs


def test_good_annotations_are_imported_and_bad_ones_reported(tmp_path: Path) -> None:
    source, boxes = write_coco_pairs(tmp_path / "src")
    out = tmp_path / "ds"
    report = import_dataset("coco-pairs", source, out)
    assert (report.rows_read, report.imported, report.failed) == (6, 2, 4)
    problems = {(p.location, p.field): p.message for p in report.problems}
    assert "image id 99, which is not in 'images'" in problems[("pairs[1]", "image_b")]
    assert "declared 100x100 but the file is 64x48" in problems[("pairs[2]", "image_b")]
    assert "of pair 'p2'" in problems[("annotations[2]", "image_b")]
    assert "zero or negative width" in problems[("annotations[3]", "bbox")]
    assert "pair 'p42', which is not in 'pairs'" in problems[("annotations[4]", "pair_id")]
    assert "of pair 'p3'" in problems[("annotations[5]", "image_b")]
    assert "duplicates pair id 'p1'" in problems[("pairs[3]", "id")]

    samples = read_manifest(out).samples
    assert [s.box for s in samples] == boxes
    assert [s.edit_type for s in samples] == ["add", "unknown"]
    assert samples[0].pair_id == samples[1].pair_id == "coco-pairs-pair-p1"
    assert samples[1].attributes["category_id"] == 1 and samples[1].attributes["bbox"] == [0.5, 1.5, 20, 10]
    assert samples[0].attributes["images"]["b"]["license"] == 3
    assert validate_dataset(out).ok


def test_run_on_imported_coco_pairs(tmp_path: Path) -> None:
    source, _ = write_coco_pairs(tmp_path / "src")
    out = tmp_path / "ds"
    assert main(["data", "import", "coco-pairs", str(source), "--out", str(out)]) == 0
    results = tmp_path / "results"
    argv = ["run", "--models", "pixel-diff", "--dataset", str(out), "--output-dir", str(results), "--run-id", "r"]
    assert main(argv) == 0
    assert len((results / "r" / "pixel-diff" / "predictions.jsonl").read_text().splitlines()) == 2
