"""Metrics of finished runs at other IoU thresholds (`harness report --iou-thresholds`).

A model whose metrics.json lacks Acc@τ at an asked threshold is scored again from its
predictions.jsonl and the run's dataset, with the functions a run uses (`score_records`, through
the metrics cache under the run's results folder), so the numbers are those a run at these
thresholds would have written. Only the report's copy changes: run folders are not rewritten.
Control runs keep their metrics (the controls section reads Acc@0.5, which every run has), and
so does the pixel-level change block (it does not depend on IoU thresholds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.errors import HarnessError
from harness.metrics import acc_key
from harness.report.per_sample import RunDataset
from harness.report.runs import LoadedRun
from harness.run.model_on_split import score_records
from harness.run.run_folder import PREDICTIONS_NAME, model_dir_name, read_predictions
from harness.run.run_records import ModelEntry


def has_thresholds(entry: ModelEntry, thresholds: Sequence[float]) -> bool:
    overall = (entry.metrics or {}).get("overall", {})
    return all(acc_key(t) in overall for t in thresholds)


def _rescored(run: LoadedRun, entry: ModelEntry, dataset: RunDataset, thresholds: Sequence[float]) -> dict:
    path = run.run_dir / model_dir_name(entry.name) / PREDICTIONS_NAME
    if not path.is_file():
        raise HarnessError(f"--iou-thresholds: {path} is missing, so {entry.name!r} cannot be scored again")
    records = {r.id: r for r in read_predictions(path)}
    missing = [sample_id for sample_id in records if sample_id not in dataset.samples]
    if missing:
        raise HarnessError(
            f"--iou-thresholds: {len(missing)} predicted sample(s) of {entry.name!r} (e.g. {missing[0]!r}) are not "
            f"in the manifest of {dataset.root}: the dataset changed since run {run.run_id}; rerun the model"
        )
    samples = [dataset.samples[sample_id] for sample_id in records]
    strata = list(run.info.config.extra_strata)
    _, metrics = score_records(samples, records, strata, run.run_dir.parent, pixel=False, iou_thresholds=thresholds)
    old = entry.metrics or {}
    return {**metrics, "pixel_change": old["pixel_change"]} if "pixel_change" in old else metrics


def rescore_runs(
    runs: list[LoadedRun], thresholds: Sequence[float], log: Callable[[str], None] | None = None
) -> list[str]:
    """Give every done model of `runs` (controls aside) metrics with Acc@τ at each of `thresholds`,
    scoring again those that lack one; returns the names scored again. HarnessError when a model
    must be scored again and its run's dataset or predictions are not at hand."""
    rescored = []
    for run in runs:
        todo = [
            e for e in run.models if e.done and e.metrics and e.control is None and not has_thresholds(e, thresholds)
        ]
        if not todo:
            continue
        try:
            dataset = RunDataset.for_run(run)
        except HarnessError as exc:
            raise HarnessError(f"--iou-thresholds: {exc}") from None
        for entry in todo:
            entry.metrics = _rescored(run, entry, dataset, thresholds)
            rescored.append(entry.name)
            if log is not None:
                log(f"{entry.name} of run {run.run_id} scored again at IoU {', '.join(f'{t:g}' for t in thresholds)}")
    return rescored
