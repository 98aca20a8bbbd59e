"""MIG-Bench import of the real MIG_data.json format: records copied from the benchmark
(tests/data/mig_bench/, see its ATTRIBUTION.md), with placeholder images written where they name."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from harness.cli import main
from harness.data.importers import import_dataset
from harness.data.importers.mig_bench import NOT_A_DIFFERENCE_TASK, classify_records
from harness.data.manifest import read_dataset_info, read_manifest
from harness.data.validate import validate_dataset
from tests.data.mig_bench_fixture import REAL_FILE, copy_fixture, fake_images


@pytest.fixture
def real_source(tmp_path: Path) -> tuple[Path, list[dict], dict[str, tuple]]:
    return copy_fixture(tmp_path / "bench")


def test_cli_imports_the_difference_records_and_counts_the_others_as_skipped(
    real_source, tmp_path: Path, capsys
) -> None:
    source, records, sizes = real_source
    out = tmp_path / "ds"
    assert main(["data", "import", "mig-bench", str(source), "--out", str(out), "--strict"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert f"4 row(s) skipped ({NOT_A_DIFFERENCE_TASK}): reasoning 2, common_object 1, region 1" in printed
    assert "record" not in printed  # no problem listed

    wanted = [i for i, r in enumerate(records) if r["task"] in ("diff", "view_diff")]
    samples = read_manifest(out).samples
    assert [s.attributes["source_index"] for s in samples] == wanted and len(samples) == 9
    assert Counter(s.attributes["task"] for s in samples) == {"diff": 6, "view_diff": 3}
    assert [s.attributes["task_index"] for s in samples] == [0, 1, 2, 3, 4, 5, 0, 1, 2]
    for sample, index in zip(samples, wanted, strict=True):
        record = records[index]
        width, height = sizes[record["images"][1]]
        x1, y1, x2, y2 = record["answer"]
        assert sample.box == pytest.approx((x1 * width, y1 * height, x2 * width, y2 * height), abs=1e-4)
        assert (sample.width, sample.height) == (width, height)
        assert sample.query == record["question"].strip() and sample.edit_type == "unknown"
        assert sample.attributes["additional_info"] == "" and sample.attributes["need_format"] is True
        # Found under the folder above the JSON: kept under images/ with the benchmark's own path.
        assert sample.image_b == "images/" + record["images"][1].removeprefix("./")
    report = validate_dataset(out)
    assert report.ok and not report.warnings  # `unknown` is a known edit type, not a typo

    info = read_dataset_info(out)
    assert info["counts"] == {"rows_read": 13, "imported": 9, "skipped": 4, "failed": 0}
    assert info["skipped"] == {NOT_A_DIFFERENCE_TASK: {"common_object": 1, "region": 1, "reasoning": 2}}
    assert info["problems"] == [] and info["edit_types"] == ["unknown"]


def test_report_counts_skips_apart_from_failures(real_source, tmp_path: Path) -> None:
    source, records, sizes = real_source
    records[1]["additional_info"] = {"edit_type": "Remove", "split": "val"}  # the older object form
    records[2]["additional_info"] = ["not", "text"]
    (source.parent.parent / records[3]["images"][1]).unlink()
    source.write_text(json.dumps(records), encoding="utf-8")
    report = import_dataset("mig-bench", source, tmp_path / "ds")
    assert (report.rows_read, report.imported, report.skipped_total, report.failed) == (13, 7, 4, 2)
    problems = {(p.location, p.field): p.message for p in report.problems}
    assert problems[("record 3", "additional_info")] == "must be a string or an object, got list"
    missing = problems[("record 4", "images[1]")]
    name = records[3]["images"][1]
    assert f"file not found: looked for {name!r} in {source.parent} and in {source.parent.parent}" in missing
    first = read_manifest(tmp_path / "ds").samples[0]
    assert (first.edit_type, first.split) == ("remove", "val")


def test_run_reports_scores_per_task(real_source, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    import_dataset("mig-bench", real_source[0], out)
    results = tmp_path / "results"
    argv = ["run", "--models", "center-prior", "--dataset", str(out), "--output-dir", str(results), "--run-id", "r"]
    assert json.loads((out / "dataset.json").read_text())["default_strata"] == ["task"]
    # No --strata: the dataset's default stratum `task` is used and recorded in run.json.
    assert main([*argv, "--loader-workers", "0"]) == 0
    metrics = json.loads((results / "r" / "center-prior" / "metrics.json").read_text())["metrics"]
    assert {task: block["n"] for task, block in metrics["by"]["task"].items()} == {"diff": 6, "view_diff": 3}
    assert json.loads((results / "r" / "run.json").read_text())["config"]["extra_strata"] == ["task"]
    # An explicit --strata replaces the default.
    assert main([*argv[:-1], "r2", "--strata", "size", "--loader-workers", "0"]) == 0
    explicit = json.loads((results / "r2" / "center-prior" / "metrics.json").read_text())["metrics"]
    assert "task" not in explicit["by"]


@pytest.mark.skipif(not REAL_FILE.is_file(), reason=f"no copy of MIG_data.json at {REAL_FILE}")
def test_the_whole_benchmark_file(tmp_path: Path) -> None:
    records = json.loads(REAL_FILE.read_text(encoding="utf-8"))
    kept = [r for _, r, _, skip in classify_records(records) if skip is None]
    skipped = Counter(r["task"] for _, r, _, skip in classify_records(records) if skip is not None)
    assert len(kept) == 622 and sum(skipped.values()) == 3673 and len(skipped) == 8

    source = tmp_path / "MIG-Bench" / "MIG_data.json"
    source.parent.mkdir()
    shutil.copyfile(REAL_FILE, source)
    fake_images(tmp_path, records, size_of=lambda k: (8, 6))
    report = import_dataset("mig-bench", source, tmp_path / "ds")
    assert (report.rows_read, report.imported, report.skipped_total, report.failed) == (4295, 622, 3673, 0)
    assert report.skipped == {NOT_A_DIFFERENCE_TASK: dict(skipped)}
    assert report.ok and report.images_placed == 1244
