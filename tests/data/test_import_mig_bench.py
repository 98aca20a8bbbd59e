"""MIG-Bench import of hand-made records in the older style (`additional_info` an object, the paper's task
names): good records converted to B's pixels, every malformed record reported, runnable result. The real
MIG_data.json format is tested in tests/data/test_import_mig_bench_real.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.data.importers import ImportOptions, import_dataset
from harness.data.manifest import is_evaluation_only, read_dataset_info, read_manifest, require_train_split
from harness.data.validate import validate_dataset
from harness.errors import EvaluationOnlyDataset
from tests.data.import_sources import write_mig_bench


@pytest.fixture
def mig_source(tmp_path: Path) -> tuple[Path, list]:
    return write_mig_bench(tmp_path / "src")


def test_good_records_are_imported_and_bad_ones_reported(mig_source, tmp_path: Path) -> None:
    source, boxes = mig_source
    out = tmp_path / "ds"
    report = import_dataset("mig-bench", source, out)
    assert (report.rows_read, report.imported, report.failed) == (6, 3, 3)
    problems = {(p.location, p.field): p.message for p in report.problems}
    assert "outside 0-1" in problems[("record 3", "answer")]
    assert "file not found" in problems[("record 4", "images[1]")]
    assert "exactly two images" in problems[("record 5", "images")] and "got 3" in problems[("record 5", "images")]
    assert all(str(p).startswith("mig_bench.json record ") for p in report.problems)

    samples = read_manifest(out).samples
    assert [s.box for s in samples] == boxes
    assert [s.edit_type for s in samples] == ["add", "unknown", "unknown"]
    assert samples[0].pair_id == samples[1].pair_id != samples[2].pair_id
    # Same file name in two source folders: both kept, apart.
    assert (samples[0].image_a, samples[0].image_b) == ("images/x/001.png", "images/y/001.png")
    assert (samples[2].width, samples[2].height) == (64, 48)  # B's size, though A is 80x60
    assert samples[0].attributes["task"] == "static_diff"
    assert samples[0].attributes["additional_info"] == {"edit_type": "add", "difficulty": 2}
    assert samples[2].attributes["answer"] == [[0.5, 0.5, 0.75, 0.75]]
    # Position among the records of the same task: record 6 is the first robust_diff record.
    assert [s.attributes["task_index"] for s in samples] == [0, 1, 0]
    assert {s.split for s in samples} == {"test"}
    assert validate_dataset(out).ok

    info = read_dataset_info(out)
    assert info["source"]["format"] == "mig-bench" and info["source"]["path"] == str(source.resolve())
    assert info["counts"] == {"rows_read": 6, "imported": 3, "skipped": 0, "failed": 3} and info["skipped"] == {}
    assert len(info["problems"]) == 3 and info["fingerprint"] and info["evaluation_only"] is True


def test_evaluation_only_dataset_refuses_training(mig_source, tmp_path: Path, capsys) -> None:
    out = tmp_path / "ds"
    import_dataset("mig-bench", mig_source[0], out)
    assert is_evaluation_only(out)
    with pytest.raises(EvaluationOnlyDataset, match="no 'train' split.*evaluation-only"):
        require_train_split(out)
    assert main(["data", "stats", str(out)]) == 0
    assert "evaluation-only" in capsys.readouterr().out
    train = tmp_path / "train"
    import_dataset("mig-bench", mig_source[0], train, ImportOptions(split="train"))
    require_train_split(train)


def test_cli_import_exit_codes_and_options(mig_source, tmp_path: Path, capsys) -> None:
    source, _ = mig_source
    out = tmp_path / "ds"
    assert main(["data", "import", "mig-bench", str(source), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mig_bench.json record 3: field 'answer'" in printed and "record 5" in printed
    assert main(["data", "import", "mig-bench", str(source), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["data", "import", "mig-bench", str(source), "--out", str(out), "--overwrite", "--strict"]) == 1
    linked = tmp_path / "linked"
    assert main(["data", "import", "mig-bench", str(source), "--out", str(linked), "--link", "hardlink"]) == 0
    placed = linked / "images" / "y" / "001.png"
    assert placed.stat().st_ino == (source.parent / "y" / "001.png").stat().st_ino
    with pytest.raises(SystemExit) as refused:  # not offered: symlinked images would leave the dataset root
        main(["data", "import", "mig-bench", str(source), "--out", str(tmp_path / "s"), "--link", "symlink"])
    assert refused.value.code == 2
    assert "invalid choice: 'symlink'" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"images": ["a.png"], "question": "q", "answer": [0, 0, 1, 1]}]))
    assert main(["data", "import", "mig-bench", str(bad), "--out", str(tmp_path / "none")]) == 1
    assert "Nothing imported" in capsys.readouterr().out
    assert not (tmp_path / "none" / "manifest.jsonl").exists()
    bad.write_text('{"not": "a list"}')
    assert main(["data", "import", "mig-bench", str(bad), "--out", str(tmp_path / "none2")]) == 2


def test_run_on_imported_dataset_shows_unknown_stratum(mig_source, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    import_dataset("mig-bench", mig_source[0], out)
    results = tmp_path / "results"
    argv = ["run", "--models", "pixel-diff", "--dataset", str(out), "--output-dir", str(results), "--run-id", "r"]
    assert main(argv + ["--strata", "task"]) == 0
    predictions = (results / "r" / "pixel-diff" / "predictions.jsonl").read_text().splitlines()
    assert len(predictions) == 3
    metrics = json.loads((results / "r" / "pixel-diff" / "metrics.json").read_text())
    assert set(metrics["metrics"]["by"]["edit_type"]) == {"add", "unknown"}
    assert set(metrics["metrics"]["by"]["task"]) == {"static_diff", "robust_diff"}
