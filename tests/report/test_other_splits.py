"""A report of runs on several splits: the first split in full, every split's scores side by side."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli import main
from tests.tiny_dataset import write_tiny_dataset


def test_splits_side_by_side(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    rows = write_tiny_dataset(root, n_pairs=2, split="test") + write_tiny_dataset(root, n_pairs=3, split="test-novel")
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    results, out = tmp_path / "results", tmp_path / "lb"
    for split, models in (("test", "pixel-diff,center-prior"), ("test-novel", "pixel-diff")):
        args = ["run", "--models", models, "--split", split, "--dataset", str(root), "--output-dir", str(results)]
        assert main([*args, "--run-id", split, "--loader-workers", "0"]) == 0
    runs = [str(results / "test"), str(results / "test-novel")]
    assert main(["report", *runs, "--out", str(out), "--no-galleries"]) == 0
    md = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert md.splitlines()[0].endswith("/ test")  # the first split named is the main one
    section = md[md.index("## Acc@0.5 across splits") :]
    assert "| Model | test (n=4) | test-novel (n=6) |" in section
    center = next(line for line in section.splitlines() if line.startswith("| `center-prior`"))
    assert center.endswith("| — |"), "center-prior was not run on test-novel"
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Acc@0.5 across splits" in html and "test-novel (n=6)" in html
    # Comparisons and tables are of the first split named.
    assert main(["report", *runs, "--out", str(out), "--compare", "pixel-diff", "center-prior"]) == 0


def test_models_trained_on_another_dataset_are_named(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_tiny_dataset(root, n_pairs=1)
    results, out = tmp_path / "results", tmp_path / "lb"
    args = ["run", "--models", "cd-siamese,pixel-diff", "--dataset", str(root), "--output-dir", str(results)]
    assert main([*args, "--run-id", "r", "--loader-workers", "0"]) == 0
    entry = json.loads((results / "r" / "run.json").read_text())["models"]["cd-siamese"]
    assert len(entry["trained_on"]["fingerprint"]) == 64  # from the committed checkpoint's provenance
    assert json.loads((results / "r" / "run.json").read_text())["models"]["pixel-diff"]["trained_on"] is None
    assert main(["report", str(results / "r"), "--out", str(out), "--no-galleries"]) == 0
    md = (out / "leaderboard.md").read_text(encoding="utf-8")
    line = next(line for line in md.splitlines() if line.startswith("- Trained on another dataset"))
    assert entry["trained_on"]["fingerprint"][:16] in line and "`cd-siamese`" in line and "pixel-diff" not in line
    assert "Trained on another dataset" in (out / "index.html").read_text(encoding="utf-8")


def test_control_runs_stay_out_of_the_split_tables(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    rows = write_tiny_dataset(root, n_pairs=2, split="test") + write_tiny_dataset(root, n_pairs=2, split="test-novel")
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    results, out = tmp_path / "results", tmp_path / "lb"
    base = [
        "run",
        "--models",
        "pixel-diff",
        "--dataset",
        str(root),
        "--output-dir",
        str(results),
        "--loader-workers",
        "0",
    ]
    assert main([*base, "--split", "test", "--run-id", "t", "--control", "query-shuffle"]) == 0
    assert main([*base, "--split", "test-novel", "--run-id", "n"]) == 0
    assert main(["report", str(results / "t"), str(results / "n"), "--out", str(out), "--no-galleries"]) == 0
    md = (out / "leaderboard.md").read_text(encoding="utf-8")
    section = md[md.index("## Acc@0.5 across splits") : md.index("## mIoU across splits")]
    assert "`pixel-diff`" in section and "@query-shuffle" not in section
    assert "## Controls" in md  # the control run is reported there
