"""Evaluate adapters over one split of a dataset: batching, caching/resume, errors, run folder.

Each model's answers go to `<run>/<model>/predictions.jsonl` batch by batch; answers are also
cached by (adapter fingerprint, sample fingerprint), so rerunning an interrupted command
recomputes only what is missing.
"""

from __future__ import annotations

import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from adapters.base import Adapter, AdapterUnavailable, PairInput
from adapters.registry import UnknownAdapterError, available_names, create_adapter, get_adapter_class
from harness import __version__
from harness.data.images import ImageCache, load_pair, resolve_dataset_path
from harness.data.manifest import dataset_fingerprint, read_dataset_info
from harness.data.schema import Sample
from harness.data.validate import validate_dataset
from harness.errors import DatasetInvalid, HarnessError
from harness.metrics import SampleOutcome, compute_metrics
from harness.prediction_cache import FileHashes, PredictionCache, sample_fingerprint
from harness.prediction_record import PredictionRecord, check_prediction, error_record
from harness.run_folder import (
    METRICS_NAME,
    PREDICTIONS_NAME,
    RUN_INFO_NAME,
    ModelRecord,
    PredictionsWriter,
    model_dir_name,
    new_run_id,
    write_json_atomic,
)

MAX_PROBLEMS_IN_RUN_INFO = 200


@dataclass
class RunConfig:
    models: list[str]
    split: str
    dataset: Path
    output_dir: Path = Path("results")
    limit: int | None = None
    batch_size: int = 8
    device: str = "auto"
    skip_invalid: bool = False
    use_cache: bool = True
    run_id: str | None = None
    adapter_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra_strata: list[str] = field(default_factory=list)  # manifest attributes to stratify by
    argv: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    run_dir: Path
    run_info: dict[str, Any]
    models: list[ModelRecord]


def resolve_models(models: list[str]) -> list[str]:
    """Expand `all` and check names, keeping the order given (duplicates removed)."""
    names: list[str] = []
    for name in models:
        expanded = available_names() if name == "all" else [name]
        names.extend(n for n in expanded if n not in names)
    for name in names:
        try:
            get_adapter_class(name)
        except UnknownAdapterError as exc:
            raise HarnessError(f"{exc}. See `harness models`.") from None
    if not names:
        raise HarnessError("no models to run: pass --models NAME[,NAME...] or --models all")
    return names


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch  # imported only here: adapters that need torch pay for it anyway

    return "cuda" if torch.cuda.is_available() else "cpu"


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _environment() -> dict[str, Any]:
    packages = ("torch", "torchvision", "transformers", "numpy", "pillow", "scikit-image", "pycocotools")
    return {
        "harness": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "host": platform.node(),
        "packages": {name: _package_version(name) for name in packages},
        "git_sha": _git_sha(),
    }


def _select_samples(config: RunConfig, console: Console) -> tuple[list[Sample], dict[str, Any]]:
    report = validate_dataset(config.dataset, splits={config.split})
    invalid = {
        "count": report.invalid_rows,
        "problems": [str(p) for p in report.problems[:MAX_PROBLEMS_IN_RUN_INFO]],
        "problems_total": len(report.problems),
    }
    if report.problems and not config.skip_invalid:
        shown = "\n".join(f"  {p}" for p in report.problems[:20])
        more = f"\n  ... and {len(report.problems) - 20} more" if len(report.problems) > 20 else ""
        raise DatasetInvalid(
            f"dataset {config.dataset} has {len(report.problems)} problem(s) in {report.invalid_rows} row(s):\n"
            f"{shown}{more}\nFix them (see `harness data validate {config.dataset}`) or pass --skip-invalid "
            "to evaluate the valid samples and record the skipped ones.",
            report.problems,
        )
    if report.problems:
        console.print(f"[yellow]Skipping {report.invalid_rows} invalid row(s); they are listed in run.json.[/]")
    samples = report.samples
    if not samples:
        splits_hint = "" if report.rows_total else " (the manifest is empty)"
        raise HarnessError(f"dataset {config.dataset} has no valid samples in split {config.split!r}{splits_hint}")
    if config.limit is not None:
        samples = samples[: config.limit]
    return samples, invalid


def _fingerprints(root: Path, samples: list[Sample]) -> dict[str, str]:
    hashes = FileHashes()
    return {
        s.id: sample_fingerprint(
            s.query,
            hashes.get(resolve_dataset_path(root, s.image_a)),
            hashes.get(resolve_dataset_path(root, s.image_b)),
        )
        for s in samples
    }


def _predict_batch(adapter: Adapter, batch: list[PairInput]) -> list[Any]:
    """Adapter outputs for a batch; if the batch call fails, isolate the failing samples."""
    try:
        outputs = adapter.predict(batch)
        if isinstance(outputs, list) and len(outputs) == len(batch):
            return outputs
        got = len(outputs) if isinstance(outputs, list) else type(outputs).__name__
        return [f"adapter returned {got} predictions for a batch of {len(batch)}"] * len(batch)
    except Exception as exc:  # the run goes on; see below
        if len(batch) == 1:
            return [f"{type(exc).__name__}: {exc}"]
    results: list[Any] = []
    for item in batch:
        results.extend(_predict_batch(adapter, [item]))
    return results


class _ModelEvaluation:
    """Runs one adapter over the samples, writing predictions as it goes."""

    def __init__(self, config: RunConfig, adapter: Adapter, samples: list[Sample], fps: dict[str, str], out: Path):
        self.config, self.adapter, self.samples, self.fps, self.out = config, adapter, samples, fps, out
        self.cache = PredictionCache(config.output_dir, adapter.name, adapter.fingerprint())
        self.images = ImageCache()

    def run(self, progress: Progress) -> dict[str, PredictionRecord]:
        records: dict[str, PredictionRecord] = {}
        writer = PredictionsWriter(self.out / PREDICTIONS_NAME)
        try:
            cached = []
            for s in self.samples:
                hit = self.cache.get(self.fps[s.id], s.id) if self.config.use_cache else None
                if hit is not None:
                    records[s.id] = hit
                    cached.append(hit)
            writer.append(cached)
            todo = [s for s in self.samples if s.id not in records]
            task = progress.add_task(self.adapter.name, total=len(self.samples), completed=len(cached))
            for start in range(0, len(todo), self.config.batch_size):
                batch = todo[start : start + self.config.batch_size]
                new = self._run_batch(batch)
                self.cache.put_many(new)
                writer.append(new)
                records.update((r.id, r) for r in new)
                progress.advance(task, len(batch))
            writer.finish([records[s.id] for s in self.samples])
        finally:
            writer.close()
        self.n_cached = len(cached)
        return records

    def _run_batch(self, batch: list[Sample]) -> list[PredictionRecord]:
        inputs: list[PairInput] = []
        failed: dict[str, PredictionRecord] = {}
        for s in batch:
            try:
                a, b = load_pair(self.config.dataset, s.image_a, s.image_b, self.images)
                inputs.append(PairInput(id=s.id, image_a=a, image_b=b, query=s.query))
            except (HarnessError, ValueError) as exc:
                failed[s.id] = error_record(s.id, self.fps[s.id], f"input: {exc}")
        outputs = _predict_batch(self.adapter, inputs) if inputs else []
        by_id = {}
        for item, output in zip(inputs, outputs, strict=True):
            if isinstance(output, str):
                by_id[item.id] = error_record(item.id, self.fps[item.id], output)
            else:
                width, height = item.size
                by_id[item.id] = check_prediction(output, item.id, self.fps[item.id], width, height)
        by_id.update(failed)
        return [by_id[s.id] for s in batch]


BUILTIN_STRATA = ("edit_type", "size")


def sample_strata(sample: Sample, extra: Sequence[str]) -> dict[str, str]:
    """Edit type, COCO size bucket, and any manifest attributes asked for (`unknown` if absent)."""
    strata = {"edit_type": sample.edit_type, "size": sample.size_bucket}
    for name in extra:
        value = sample.attributes.get(name)
        strata[name] = "unknown" if value is None else str(value)
    return strata


def outcomes_for(
    samples: list[Sample], records: dict[str, PredictionRecord], extra_strata: Sequence[str] = ()
) -> list[SampleOutcome]:
    return [
        SampleOutcome(
            id=s.id,
            target=s.box,
            boxes=records[s.id].boxes_array(),
            scores=records[s.id].scores_array(),
            error=records[s.id].error,
            strata=sample_strata(s, extra_strata),
        )
        for s in samples
    ]


def _peak_memory_mb(device: str) -> dict[str, float | None]:
    """Process peak RSS so far (Linux reports KiB) and, on CUDA, the peak allocated since reset."""
    peak = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "cuda_peak_mb": None}
    torch = sys.modules.get("torch")
    if torch is not None and device.startswith("cuda") and torch.cuda.is_available():
        peak["cuda_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        torch.cuda.reset_peak_memory_stats()
    return peak


def _evaluate_model(
    name: str,
    config: RunConfig,
    samples: list[Sample],
    fps: dict[str, str],
    run_dir: Path,
    device: str,
    console: Console,
) -> ModelRecord:
    try:
        adapter = create_adapter(name, **config.adapter_options.get(name, {}))
        adapter.load(device)
    except AdapterUnavailable as exc:
        return ModelRecord(name, "skipped", exc.reason, exc.how_to_enable)
    except Exception as exc:  # a model that cannot start must not stop the others
        return ModelRecord(name, "failed", f"could not load: {type(exc).__name__}: {exc}")
    out = run_dir / model_dir_name(name)
    started = time.perf_counter()
    evaluation = _ModelEvaluation(config, adapter, samples, fps, out)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        records = evaluation.run(progress)
    seconds = time.perf_counter() - started
    strata = list(BUILTIN_STRATA) + [a for a in config.extra_strata if a not in BUILTIN_STRATA]
    metrics = compute_metrics(outcomes_for(samples, records, config.extra_strata), strata=strata)
    computed = len(samples) - evaluation.n_cached
    info = {
        "fingerprint": adapter.fingerprint(),
        "options": adapter.options,
        "uses_query": adapter.uses_query,
        "uses_image_a": adapter.uses_image_a,
        "n": len(samples),
        "computed": computed,
        "cached": evaluation.n_cached,
        "errors": sum(1 for r in records.values() if r.error),
        "clipped": sum(1 for r in records.values() if r.clipped),
        "seconds": round(seconds, 3),
        "ms_per_computed_sample": round(1000 * seconds / computed, 3) if computed else None,
        "samples_per_second": round(computed / seconds, 2) if computed and seconds > 0 else None,
        "params": adapter.num_parameters(),
        **_peak_memory_mb(device),
    }
    write_json_atomic(out / METRICS_NAME, {"model": name, "split": config.split, **info, "metrics": metrics})
    return ModelRecord(name, "done", metrics=metrics, info=info)


def run_evaluation(config: RunConfig, console: Console | None = None) -> RunResult:
    """Evaluate every asked model on the split; returns what was written to the run folder."""
    console = console or Console(stderr=True)
    names = resolve_models(config.models)
    samples, invalid = _select_samples(config, console)
    device = resolve_device(config.device)
    config.output_dir.mkdir(parents=True, exist_ok=True)
    run_id = config.run_id or new_run_id(config.split, config.output_dir)
    run_dir = config.output_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    dataset_info = read_dataset_info(config.dataset)
    run_info: dict[str, Any] = {
        "run_id": run_id,
        "status": "running",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "argv": config.argv,
        "config": {
            "models": names,
            "split": config.split,
            "dataset": str(config.dataset),
            "limit": config.limit,
            "batch_size": config.batch_size,
            "device": device,
            "use_cache": config.use_cache,
            "adapter_options": config.adapter_options,
            "extra_strata": config.extra_strata,
        },
        "dataset": {
            "name": dataset_info.get("name", config.dataset.name),
            "version": dataset_info.get("version"),
            "fingerprint": dataset_fingerprint(config.dataset),
            "n_samples": len(samples),
            "invalid": invalid,
        },
        "environment": _environment(),
        "models": {},
    }
    info_path = run_dir / RUN_INFO_NAME
    write_json_atomic(info_path, run_info)
    fps = _fingerprints(config.dataset, samples)
    results: list[ModelRecord] = []
    started = time.perf_counter()
    try:
        for name in names:
            result = _evaluate_model(name, config, samples, fps, run_dir, device, console)
            results.append(result)
            run_info["models"][name] = {
                "status": result.status,
                "reason": result.reason,
                "how_to_enable": result.how_to_enable,
                **result.info,
            }
            write_json_atomic(info_path, run_info)
    except BaseException as exc:
        run_info["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "crashed"
        run_info["error"] = f"{type(exc).__name__}: {exc}"
        write_json_atomic(info_path, run_info)
        raise
    run_info["status"] = "complete"
    run_info["seconds"] = round(time.perf_counter() - started, 3)
    write_json_atomic(info_path, run_info)
    return RunResult(run_dir=run_dir, run_info=run_info, models=results)
