"""A finished run of three models on a tiny dataset whose queries try to inject HTML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from harness.report.runs import LoadedRun, load_run
from harness.run.run_config import RunConfig
from harness.run.runner import run_evaluation
from tests.tiny_dataset import write_tiny_dataset

XSS_QUERY = "<script>alert(1)</script>"


@pytest.fixture
def xss_run(tmp_path: Path) -> LoadedRun:
    dataset = tmp_path / "ds"
    rows = write_tiny_dataset(dataset, n_pairs=3)
    rows[0]["query"] = XSS_QUERY
    rows[1]["query"] = 'the "quoted" & <b>bold</b> one'
    (dataset / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = RunConfig(
        models=["pixel-diff", "center-prior", "random-box"],
        split="test",
        dataset=dataset,
        output_dir=tmp_path / "results",
        device="cpu",
        run_id="xss",
    )
    return load_run(run_evaluation(config, Console(quiet=True)).run_dir)
