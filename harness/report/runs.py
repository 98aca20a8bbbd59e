"""Finding and loading finished runs under a results folder, for reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.run.run_folder import METRICS_NAME, RUN_INFO_NAME, model_dir_name
from harness.run.run_records import ModelEntry, RunInfo, RunRecordError, RunStatus, read_run_info


@dataclass
class LoadedRun:
    run_dir: Path
    info: RunInfo
    models: list[ModelEntry]

    @property
    def run_id(self) -> str:
        return self.info.run_id


def load_run(run_dir: Path) -> LoadedRun:
    """run.json and each finished model's metrics.json."""
    run_dir = Path(run_dir)
    info_path = run_dir / RUN_INFO_NAME
    if not info_path.is_file():
        raise HarnessError(f"{run_dir} is not a run folder (no {RUN_INFO_NAME})")
    info = read_run_info(info_path)
    for entry in info.models.values():
        metrics_path = run_dir / model_dir_name(entry.name) / METRICS_NAME
        if entry.done and metrics_path.is_file():
            try:
                entry.metrics = json.loads(metrics_path.read_text(encoding="utf-8"))["metrics"]
            except (OSError, ValueError, KeyError) as exc:
                raise HarnessError(f"{metrics_path}: cannot read ({type(exc).__name__}: {exc})") from None
    return LoadedRun(run_dir=run_dir, info=info, models=list(info.models.values()))


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
                info = read_run_info(info_path)
            except RunRecordError:
                continue
            if info.status == RunStatus.COMPLETE:
                candidates.append((info.created, path.name, path))
    if not candidates:
        raise HarnessError(f"no complete run under {results_dir}; run `harness run --models all --split test` first")
    return max(candidates)[2]


def merge_runs(runs: list[LoadedRun]) -> list[ModelEntry]:
    """One entry per model; a later run (in the order given) replaces an earlier one's row."""
    if len({(r.info.dataset.fingerprint, r.info.split) for r in runs}) > 1:
        listing = ", ".join(f"{r.run_id} ({r.info.split})" for r in runs)
        raise HarnessError(f"runs {listing} are on different datasets or splits; report them separately")
    merged: dict[str, ModelEntry] = {}
    for run in runs:
        for entry in run.models:
            if entry.name in merged and not entry.done and merged[entry.name].done:
                continue
            merged[entry.name] = entry
    return list(merged.values())
