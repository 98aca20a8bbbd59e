"""End to end: the example plugin, pip-installed, is discovered by entry point, listed and run.

Entry points are read once per process, so every check after the install runs in a subprocess.
The install goes into the current environment and is always uninstalled afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "idg-example-adapter"
MODEL = "example-brightest-change"

pytestmark = pytest.mark.slow


def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    # A wide console keeps rich from wrapping model names inside the `harness models` table.
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed_plugin():
    install = _run("-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet", "-e", str(EXAMPLE))
    try:
        assert install.returncode == 0, f"pip install failed:\n{install.stdout}\n{install.stderr}"
        yield
    finally:
        _run("-m", "pip", "uninstall", "-y", "--quiet", "idg-example-adapter")


def write_tiny_dataset(root: Path) -> list[list[float]]:
    """Two test queries on one pair: a square turned bright, another removed. Returns the boxes."""
    (root / "images").mkdir(parents=True)
    a = Image.new("RGB", (64, 48), (50, 90, 60))
    draw_a = ImageDraw.Draw(a)
    draw_a.rectangle([8, 6, 23, 21], fill=(40, 40, 40))  # becomes bright in B: box [8, 6, 24, 22]
    draw_a.rectangle([40, 28, 51, 39], fill=(200, 40, 40))  # removed in B: box [40, 28, 52, 40]
    b = Image.new("RGB", (64, 48), (50, 90, 60))
    ImageDraw.Draw(b).rectangle([8, 6, 23, 21], fill=(250, 250, 250))
    a.save(root / "images" / "p0_a.png")
    b.save(root / "images" / "p0_b.png")
    boxes = [[8.0, 6.0, 24.0, 22.0], [40.0, 28.0, 52.0, 40.0]]
    rows = [
        {"query": "the square that got brighter", "box": boxes[0], "edit_type": "appearance"},
        {"query": "the object that is no longer there", "box": boxes[1], "edit_type": "remove"},
    ]
    with (root / "manifest.jsonl").open("w", encoding="utf-8") as f:
        for i, row in enumerate(rows):
            common = {"id": f"p0-q{i}", "pair_id": "p0", "split": "test"}
            paths = {"image_a": "images/p0_a.png", "image_b": "images/p0_b.png"}
            f.write(json.dumps({**common, **paths, **row}) + "\n")
    return boxes


def test_harness_models_lists_the_plugin(installed_plugin) -> None:
    result = _run("-m", "harness", "models")
    assert result.returncode == 0, result.stderr
    assert MODEL in result.stdout, result.stdout
    assert "plugin failed to load" not in result.stdout


def test_harness_run_writes_the_plugins_predictions(installed_plugin, tmp_path: Path) -> None:
    dataset, out = tmp_path / "dataset", tmp_path / "results"
    boxes = write_tiny_dataset(dataset)
    result = _run(
        "-m", "harness", "run", "--models", MODEL, "--dataset", str(dataset), "--split", "test",
        "--output-dir", str(out), "--run-id", "plugin-run", "--device", "cpu",
    )  # fmt: skip
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    predictions = out / "plugin-run" / MODEL / "predictions.jsonl"
    records = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [r["id"] for r in records] == ["p0-q0", "p0-q1"]
    assert all("error" not in r for r in records), records
    # The query-blind method answers the biggest brightness change for both queries.
    assert records[0]["boxes"][0] == boxes[0]


def test_contract_suite_covers_the_plugin(installed_plugin) -> None:
    result = _run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/adapters/test_contract.py", "-k", MODEL)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout[-4000:]
    assert "passed" in summary and "skipped" not in summary, summary
