"""Finding and loading finished runs under a results folder, for reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.run.run_folder import METRICS_NAME, RUN_INFO_NAME, ModelRecord, model_dir_name


@dataclass
class LoadedRun:
    run_dir: Path
    info: dict[str, Any]
    models: list[ModelRecord]

    @property
    def run_id(self) -> str:
        return self.info["run_id"]


def load_run(run_dir: Path) -> LoadedRun:
    run_dir = Path(run_dir)
    info_path = run_dir / RUN_INFO_NAME
    if not info_path.is_file():
        raise HarnessError(f"{run_dir} is not a run folder (no {RUN_INFO_NAME})")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    models = []
    for name, entry in info.get("models", {}).items():
        metrics = None
        metrics_path = run_dir / model_dir_name(name) / METRICS_NAME
        if entry.get("status") == "done" and metrics_path.is_file():
            metrics = json.loads(metrics_path.read_text(encoding="utf-8"))["metrics"]
        models.append(
            ModelRecord(
                name=name,
                run_id=info["run_id"],
                status=entry.get("status", "unknown"),
                reason=entry.get("reason"),
                how_to_enable=entry.get("how_to_enable"),
                metrics=metrics,
                info=entry,
            )
        )
    return LoadedRun(run_dir=run_dir, info=info, models=models)


def latest_complete_run(results_dir: Path) -> Path:
    """The newest run folder whose run.json says complete."""
    results_dir = Path(results_dir)
    candidates = []
    if results_dir.is_dir():
        for path in results_dir.iterdir():
            info_path = path / RUN_INFO_NAME
            if not info_path.is_file():
                continue
            try:
                info = json.loads(info_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                continue
            if info.get("status") == "complete":
                candidates.append((info.get("created", ""), path.name, path))
    if not candidates:
        raise HarnessError(f"no complete run under {results_dir}; run `harness run --models all --split test` first")
    return max(candidates)[2]


def merge_runs(runs: list[LoadedRun]) -> list[ModelRecord]:
    """One entry per model; a later run (in the order given) replaces an earlier one's row."""
    if len({(r.info["dataset"]["fingerprint"], r.info["config"]["split"]) for r in runs}) > 1:
        listing = ", ".join(f"{r.run_id} ({r.info['config']['split']})" for r in runs)
        raise HarnessError(f"runs {listing} are on different datasets or splits; report them separately")
    merged: dict[str, ModelRecord] = {}
    for run in runs:
        for entry in run.models:
            if entry.name in merged and entry.status != "done" and merged[entry.name].status == "done":
                continue
            merged[entry.name] = entry
    return list(merged.values())
