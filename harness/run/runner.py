"""Evaluate adapters over one split of a dataset: validation, sharding, caching/resume, run folder.

Each model's answers go to `<run>/<model>/predictions.jsonl` batch by batch; answers are also
cached by (adapter fingerprint, sample fingerprint), so rerunning an interrupted command
recomputes only what is missing, whatever the number of processes. Under torchrun each rank
takes every world_size-th sample and writes its own file; rank 0 merges and scores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from harness.data.manifest import dataset_fingerprint, read_dataset_info
from harness.data.schema import Sample
from harness.data.validate import validate_dataset
from harness.errors import DatasetInvalid, HarnessError
from harness.files.atomic import write_json_atomic
from harness.files.file_facts import FileFacts
from harness.files.output_paths import make_output_folder
from harness.run.box_check_in_run import announce_unchecked, check_before_run
from harness.run.controls import apply_control
from harness.run.devices import resolve_device
from harness.run.distributed import DistContext, init_from_env
from harness.run.model_on_split import ModelOnSplit
from harness.run.prediction_cache import CACHE_DIR_NAME
from harness.run.run_config import RunConfig
from harness.run.run_environment import run_environment
from harness.run.run_folder import (
    RUN_INFO_NAME,
    check_run_id,
    clear_run_folder,
    new_run_id,
)
from harness.run.run_lock import LOCK_NAME, RunLock
from harness.run.run_records import (
    DatasetRecord,
    ModelEntry,
    ModelStatus,
    RunInfo,
    RunSettings,
    RunStatus,
    read_run_info,
)
from harness.run.sample_outcomes import BUILTIN_STRATA
from idg_adapters.base import Adapter, AdapterUnavailable
from idg_adapters.registry import UnknownAdapterError, create_adapter, select_names

MAX_PROBLEMS_IN_RUN_INFO = 200
MAX_WARNINGS_SHOWN = 10
FILE_FACTS_NAME = "file_facts.json"


@dataclass
class RunResult:
    run_dir: Path
    run_info: RunInfo | None  # None on the ranks other than 0 of a sharded run
    models: list[ModelEntry]


def dataset_record(dataset: Path, facts: FileFacts, n_samples: int, invalid: dict[str, Any]) -> DatasetRecord:
    """run.json's record of the dataset a run scored: name and version from dataset.json, the content
    fingerprint, how many samples were scored and which rows were skipped."""
    info = read_dataset_info(dataset)
    return DatasetRecord(
        name=info.get("name", dataset.name),
        version=info.get("version"),
        fingerprint=dataset_fingerprint(dataset, facts.sha256),
        n_samples=n_samples,
        invalid=invalid,
    )


def resolve_models(models: list[str]) -> list[str]:
    """Names, globs (`gdino-*`), families and `all` expanded in the order given, duplicates removed."""
    if not models:
        raise HarnessError("no models to run: pass --models NAME[,NAME...], a glob such as 'gdino-*', or all")
    try:
        return select_names(models)
    except UnknownAdapterError as exc:
        raise HarnessError(f"--models: {exc}. See `harness models`.") from None


def check_adapter_options(names: list[str], options: dict[str, dict[str, Any]]) -> None:
    """Options name models of this run and have valid values, checked before any model loads.

    Only models given options are built here: a constructor that fails without any user option
    is the adapter's own problem, recorded as that model's failure when the run loads it.
    """
    stray = sorted(set(options) - set(names))
    if stray:
        raise HarnessError(
            f"--opt/--model-config: options for {', '.join(stray)}, which is not among the models of this run "
            f"({', '.join(names)}); check the model name"
        )
    for name, model_options in options.items():
        try:
            create_adapter(name, **model_options)
        except AdapterUnavailable:
            pass  # reported as skipped when the run loads it
        except (TypeError, ValueError) as exc:
            given = ", ".join(f"{name}.{k}={v!r}" for k, v in model_options.items())
            raise HarnessError(f"--opt/--model-config ({given}): {exc}") from None


def check_strata(extra_strata: list[str], samples: list[Sample]) -> None:
    """Every asked stratum is built in or an attribute that some sample of the split has."""
    present = {key for s in samples for key in s.attributes}
    missing = [a for a in extra_strata if a not in BUILTIN_STRATA and a not in present]
    if missing:
        known = ", ".join(sorted(present)) or "none"
        raise HarnessError(
            f"--strata {','.join(missing)}: no sample of the split has such an attribute "
            f"(built in: {', '.join(BUILTIN_STRATA)}; attributes in the manifest: {known})"
        )


def dataset_default_strata(dataset: Path) -> list[str]:
    """The strata a dataset asks for when a run names none: `default_strata` in its dataset.json
    (written by importers whose source scores per group, e.g. MIG-Bench's `task`)."""
    value = read_dataset_info(dataset).get("default_strata")
    return [str(v) for v in value] if isinstance(value, list) else []


def select_samples(config: RunConfig, console: Console, facts: FileFacts) -> tuple[list[Sample], dict[str, Any]]:
    """The valid samples of the split (the first `limit`) and the record of invalid rows for run.json;
    DatasetInvalid when the split has problems and `skip_invalid` is off. A run without `--strata`
    takes the dataset's default strata (recorded in run.json's config like given ones)."""
    report = validate_dataset(config.dataset, splits={config.split}, facts=facts)
    invalid = {
        "count": report.invalid_rows,
        "problems": [str(p) for p in report.problems[:MAX_PROBLEMS_IN_RUN_INFO]],
        "problems_total": len(report.problems),
    }
    for warning in report.warnings[:MAX_WARNINGS_SHOWN]:
        console.print(f"[yellow]warning[/]: {escape(str(warning))}", highlight=False)
    if len(report.warnings) > MAX_WARNINGS_SHOWN:
        console.print(f"[yellow]... and {len(report.warnings) - MAX_WARNINGS_SHOWN} more warning(s)[/]")
    invalid["warnings"] = [str(w) for w in report.warnings[:MAX_PROBLEMS_IN_RUN_INFO]]
    invalid["warnings_total"] = len(report.warnings)
    if not report.rows_total:
        raise HarnessError(f"dataset {config.dataset} has no samples: its manifest holds no rows")
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
        raise HarnessError(f"dataset {config.dataset} has no valid samples in split {config.split!r}")
    if config.limit is not None:
        samples = samples[: config.limit]
    if not config.extra_strata:
        config.extra_strata = dataset_default_strata(config.dataset)
    check_strata(config.extra_strata, samples)
    return samples, invalid


def _load_adapter(name: str, config: RunConfig, device: str) -> tuple[Adapter | None, ModelEntry | None]:
    """The loaded adapter, or the record that says why it cannot run."""
    try:
        adapter = create_adapter(name, **config.adapter_options.get(name, {}))
        adapter.allow_download = config.allow_download
        adapter.load(device)
    except AdapterUnavailable as exc:
        return None, ModelEntry(
            name=name, status=ModelStatus.SKIPPED, reason=exc.reason, how_to_enable=exc.how_to_enable
        )
    except Exception as exc:  # a model that cannot start must not stop the others
        reason = f"could not load: {type(exc).__name__}: {exc}"
        return None, ModelEntry(name=name, status=ModelStatus.FAILED, reason=reason)
    return adapter, None


def check_run_reuse(run_dir: Path, dataset: Path, split: str, force: bool, facts: FileFacts) -> None:
    """A run folder that holds a run of another dataset or split is refused, or with `force` emptied."""
    info_path = run_dir / RUN_INFO_NAME
    if not info_path.is_file():
        return
    try:
        old = read_run_info(info_path)
        old_key: tuple[str, str] | None = (old.dataset.fingerprint, old.split)
    except HarnessError:
        old_key = None  # unreadable: not a run this one can resume
    new_key = (dataset_fingerprint(dataset, facts.sha256), split)
    if old_key == new_key:
        return
    if not force:
        what = (
            f"a run of another dataset or split ({old_key[1]!r}, dataset fingerprint {old_key[0][:12]})"
            if old_key
            else "a run.json this version cannot read"
        )
        raise HarnessError(
            f"run folder {run_dir} holds {what}; this run is split {new_key[1]!r} of dataset fingerprint "
            f"{new_key[0][:12]}. Pass another --run-id, or --force to delete that run's files and reuse the id."
        )
    clear_run_folder(run_dir, keep=(LOCK_NAME,))


class _Run:
    """One `harness run`: the state shared by its steps, on every rank of a sharded job."""

    def __init__(self, config: RunConfig, console: Console, dist: DistContext) -> None:
        self.config, self.console, self.dist = config, console, dist
        self.facts = FileFacts(config.output_dir / CACHE_DIR_NAME / FILE_FACTS_NAME)

    def progress(self) -> Progress:
        return Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.dist.is_main,
        )

    def claim_run_dir(self) -> tuple[Path, RunLock | None]:
        """Rank 0 creates and locks the run folder; every rank learns its name (or the error)."""
        lock = None
        outcome: tuple[str, str]
        if self.dist.is_main:
            try:
                make_output_folder(self.config.output_dir, "--output-dir")
                if self.config.run_id is not None:
                    check_run_id(self.config.run_id)
                run_id = self.config.run_id or new_run_id(self.config.split, self.config.output_dir)
                lock = RunLock(self.config.output_dir / run_id)
                lock.acquire()
                try:
                    self.check_reuse(self.config.output_dir / run_id)
                except HarnessError:
                    lock.release()
                    raise
                outcome = ("ok", run_id)
            except HarnessError as exc:
                outcome = ("error", str(exc))
        outcome = self.dist.broadcast(outcome if self.dist.is_main else None)
        if outcome[0] == "error":
            raise HarnessError(outcome[1])
        return self.config.output_dir / outcome[1], lock

    def check_reuse(self, run_dir: Path) -> None:
        check_run_reuse(run_dir, self.config.dataset, self.config.split, self.config.force, self.facts)

    def evaluate_model(self, name: str, samples: list[Sample], device: str, run_dir: Path) -> list[ModelEntry]:
        """The model's normal run and each asked control, with the adapter loaded once."""
        config, dist = self.config, self.dist
        adapter, failure = _load_adapter(name, config, device)
        failures = [f for f in dist.gather(failure) if f is not None]
        if failures:
            return [failures[0]]
        assert adapter is not None
        box_check = None
        if config.check_boxes and dist.is_main:  # before the split; its probes never reach the cache
            box_check = check_before_run(adapter, config.batch_size, self.console)
        variants = [(name, samples, {})]
        for kind in config.controls:
            control_samples, counts = apply_control(kind, samples, config.dataset)
            variants.append((f"{name}@{kind}", control_samples, {"control": kind, "base_model": name, **counts}))
        records, baseline = [], None
        for record_name, variant_samples, extra in variants:
            run = ModelOnSplit(
                adapter=adapter,
                name=record_name,
                samples=variant_samples,
                dataset=config.dataset,
                split=config.split,
                output_dir=config.output_dir,
                batch_size=config.batch_size,
                use_cache=config.use_cache,
                loader_workers=config.loader_workers,
                extra_strata=config.extra_strata,
                iou_thresholds=config.iou_thresholds,
                dist=dist,
                facts=self.facts,
                device=device,
                extra_info=extra,
                baseline_hits=baseline,
            )
            with self.progress() as progress:
                records.append(run.execute(run_dir, progress))
            if baseline is None:
                baseline = run.hits  # the normal run comes first; controls are paired against it
        records[0].box_check = box_check
        return records

    def run_info(self, run_id: str, names: list[str], samples: list[Sample], invalid: dict, device: str) -> RunInfo:
        config = self.config
        return RunInfo(
            run_id=run_id,
            status=RunStatus.RUNNING,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            argv=config.argv,
            config=RunSettings(
                models=names,
                split=config.split,
                dataset=str(config.dataset),
                limit=config.limit,
                batch_size=config.batch_size,
                device=device,
                processes=self.dist.world_size,
                use_cache=config.use_cache,
                adapter_options=config.adapter_options,
                extra_strata=config.extra_strata,
                controls=config.controls,
                iou_thresholds=list(config.iou_thresholds),
            ),
            dataset=dataset_record(config.dataset, self.facts, len(samples), invalid),
            environment=run_environment(),
        )

    def execute(self) -> RunResult:
        config, dist = self.config, self.dist
        names = resolve_models(config.models)
        check_adapter_options(names, config.adapter_options)
        device = resolve_device(config.device, dist)
        samples, invalid = select_samples(config, self.console if dist.is_main else Console(quiet=True), self.facts)
        run_dir, lock = self.claim_run_dir()
        info_path = run_dir / RUN_INFO_NAME
        run_info = self.run_info(run_dir.name, names, samples, invalid, device) if dist.is_main else None
        results: list[ModelEntry] = []
        started = time.perf_counter()
        try:
            if run_info is not None:
                write_json_atomic(info_path, run_info.to_json())
                self.facts.save()
            if config.check_boxes and dist.is_main:
                announce_unchecked(names, self.console)
            for name in names:
                for result in self.evaluate_model(name, samples, device, run_dir):
                    results.append(result)
                    if run_info is not None:
                        run_info.models[result.name] = result
                        write_json_atomic(info_path, run_info.to_json())
            if run_info is not None:
                run_info.status = RunStatus.COMPLETE
                run_info.seconds = round(time.perf_counter() - started, 3)
                write_json_atomic(info_path, run_info.to_json())
                self.facts.save()
        except BaseException as exc:
            if run_info is not None:
                run_info.status = RunStatus.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else RunStatus.CRASHED
                run_info.error = f"{type(exc).__name__}: {exc}"
                write_json_atomic(info_path, run_info.to_json())
            raise
        finally:
            if lock is not None:
                lock.release()
        return RunResult(run_dir=run_dir, run_info=run_info, models=results)


def run_evaluation(config: RunConfig, console: Console | None = None) -> RunResult:
    """Evaluate every asked model on the split; under torchrun, shard samples across ranks.

    Returns what was written to the run folder (complete on rank 0 only).
    """
    resolve_device(config.device)  # refuse a device this machine lacks before joining a process group
    dist = init_from_env(config.device)
    try:
        return _Run(config, console or Console(stderr=True), dist).execute()
    finally:
        dist.close()
