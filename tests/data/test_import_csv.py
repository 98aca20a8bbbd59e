"""CSV import: pixel boxes checked against B, every bad line reported, extra columns kept, runnable result."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.data.importers import ImportOptions, ImportSourceError, import_dataset
from harness.data.manifest import is_evaluation_only, read_dataset_info, read_manifest
from harness.data.validate import validate_dataset
from tests.data.import_sources import write_csv, write_image


def test_good_lines_are_imported_and_bad_ones_reported(tmp_path: Path) -> None:
    source, boxes = write_csv(tmp_path / "src", tmp_path / "elsewhere")
    out = tmp_path / "ds"
    report = import_dataset("csv", source, out)
    assert (report.rows_read, report.imported, report.failed) == (7, 4, 3)
    problems = {(p.location, p.field): p.message for p in report.problems}
    assert "numbers only" in problems[("line 3", "x1,y1,x2,y2")] and "'ten'" in problems[("line 3", "x1,y1,x2,y2")]
    assert "file not found" in problems[("line 4", "image_b")]
    assert "outside image B (64x48 px)" in problems[("line 5", "x1,y1,x2,y2")]

    samples = read_manifest(out).samples
    assert [s.box for s in samples] == boxes
    assert [s.edit_type for s in samples] == ["add", "unknown", "replace", "remove"]
    assert [s.split for s in samples] == ["test", "test", "test", "train"]
    assert samples[0].attributes["scene"] == "kitchen" and samples[0].attributes["x1"] == "10"
    # A path outside the CSV's folder is copied in under images/external/, never referenced outside.
    assert samples[2].image_b.startswith("images/external/") and samples[2].image_b.endswith("/b.png")
    assert samples[2].pair_id != samples[0].pair_id == samples[1].pair_id
    assert validate_dataset(out).ok
    assert not is_evaluation_only(out) and read_dataset_info(out)["evaluation_only"] is False


def test_normalized_boxes_and_bad_header(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_image(src / "a.png", (40, 20))
    write_image(src / "b.png", (40, 20), rect=(10, 5, 19, 14))
    source = src / "n.csv"
    source.write_text("image_a,image_b,query,x1,y1,x2,y2\na.png,b.png,the box,0.25,0.25,0.5,0.75\n")
    import_dataset("csv", source, tmp_path / "ds", ImportOptions(normalized=True))
    assert read_manifest(tmp_path / "ds").samples[0].box == (10.0, 5.0, 20.0, 15.0)
    source.write_text("image_a,image_b,text,x1,y1,x2,y2\n")
    with pytest.raises(ImportSourceError, match="missing query"):
        import_dataset("csv", source, tmp_path / "ds2")


def test_run_on_imported_csv(tmp_path: Path) -> None:
    source, _ = write_csv(tmp_path / "src", tmp_path / "elsewhere")
    out = tmp_path / "ds"
    assert main(["data", "import", "csv", str(source), "--out", str(out)]) == 0
    results = tmp_path / "results"
    argv = ["run", "--models", "pixel-diff", "--dataset", str(out), "--output-dir", str(results), "--run-id", "r"]
    assert main(argv) == 0
    assert len((results / "r" / "pixel-diff" / "predictions.jsonl").read_text().splitlines()) == 3
