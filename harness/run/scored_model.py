"""`harness score`: a model's predictions made elsewhere, scored into an ordinary run folder.

The file is read in its declared format (harness/run/external_predictions.py), every sample of
the split gets a record (a sample the file lacks is a `no-prediction` miss), and the records are
scored with the functions a run uses (`score_records` in harness/run/model_on_split.py). A file
with any problem is refused with every problem listed, and nothing is written. The model is
written as `<run>/<name>/predictions.jsonl` + `metrics.json` and an entry in run.json marked
`scored`, with the file's sha256, format, box convention and coordinate scale. With `--run-id`
of an existing run of the same dataset and split, the model joins it under the run folder's lock,
taking that run's sample limit, strata, IoU thresholds and handling of invalid rows, and leaving its other
models as they are.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from harness.data.images import load_image, resolve_dataset_path
from harness.data.manifest import dataset_fingerprint
from harness.data.schema import Sample
from harness.errors import HarnessError
from harness.files.atomic import write_json_atomic, write_text_atomic
from harness.files.file_facts import FileFacts
from harness.files.hashing import file_sha256
from harness.files.output_paths import make_output_folder
from harness.metrics import DEFAULT_IOU_THRESHOLDS
from harness.run.controls import CONTROL_KINDS
from harness.run.external_predictions import (
    FORMATS,
    REPLY_FORMATS,
    PredictionProblem,
    PredictionsInvalid,
    SplitPredictions,
    match_to_split,
    read_raw_predictions,
)
from harness.run.mig_bench_replies import read_mig_bench_replies
from harness.run.model_on_split import sample_fingerprints, score_records, write_model_metrics
from harness.run.prediction_boxes import BOX_SCALES, answer_record, missing_record
from harness.run.prediction_cache import CACHE_DIR_NAME
from harness.run.prediction_record import PredictionRecord
from harness.run.run_config import RunConfig
from harness.run.run_environment import run_environment
from harness.run.run_folder import PREDICTIONS_NAME, RUN_INFO_NAME, check_run_id, model_dir_name, new_run_id
from harness.run.run_lock import RunLock
from harness.run.run_records import (
    SCORED_SOURCE,
    ModelEntry,
    ModelStatus,
    RunInfo,
    RunRecordError,
    RunSettings,
    RunStatus,
    read_run_info,
)
from harness.run.runner import FILE_FACTS_NAME, check_run_reuse, dataset_record, select_samples
from idg_adapters.box_text import CONVENTIONS


@dataclass
class ScoreRequest:
    """What one `harness score` was asked to do."""

    predictions: Path
    dataset: Path
    split: str
    name: str
    format: str = "jsonl"
    convention: str | None = None  # how replies write boxes (text, mig-bench)
    boxes: str | None = None  # pixels | normalized | 0-1000; None: the convention's scale, else pixels
    output_dir: Path = Path("results")
    run_id: str | None = None
    allow_extra: bool = False
    force: bool = False
    argv: list[str] = field(default_factory=list)


@dataclass
class ScoreResult:
    run_dir: Path
    entry: ModelEntry
    joined: bool  # added to a run that already had run.json
    absent: int  # samples the file has no answer for
    empty_replies: int  # replies in which the convention found no box
    ignored: list[PredictionProblem]  # answers for ids outside the split (--allow-extra)


def resolve_scale(request: ScoreRequest) -> str:
    """The coordinate scale: --boxes, else the convention's own, else pixels for files of numbers."""
    fmt, convention = request.format, request.convention
    if fmt not in FORMATS:
        raise HarnessError(f"--format {fmt!r}: choose from {', '.join(FORMATS)}")
    if request.boxes is not None and request.boxes not in BOX_SCALES:
        raise HarnessError(f"--boxes {request.boxes!r}: choose from {', '.join(BOX_SCALES)}")
    if fmt not in REPLY_FORMATS:
        if convention is not None:
            raise HarnessError(f"--convention applies to --format {' or '.join(REPLY_FORMATS)}, not {fmt}")
        return request.boxes or "pixels"
    if convention not in CONVENTIONS:
        raise HarnessError(
            f"--format {fmt} reads raw replies: pass --convention {'|'.join(CONVENTIONS)} (how the replies write boxes)"
        )
    scale = request.boxes or CONVENTIONS[convention].scale
    if scale is None:
        raise HarnessError(
            f"--convention {convention} does not fix a coordinate scale: pass --boxes {'|'.join(BOX_SCALES)}"
        )
    return scale


def check_model_name(name: str) -> None:
    base, _, kind = name.rpartition("@")
    if not name.strip() or (base and kind in CONTROL_KINDS):
        raise HarnessError(f"--name {name!r}: must be non-empty and not end in @CONTROL ({', '.join(CONTROL_KINDS)})")


def _same_run(run_dir: Path, request: ScoreRequest, facts: FileFacts) -> RunInfo | None:
    """The run.json of the run this model joins, when it is a readable run of the same dataset and split."""
    path = run_dir / RUN_INFO_NAME
    if not path.is_file():
        return None
    try:
        info = read_run_info(path)
    except RunRecordError:
        return None
    same = info.split == request.split and info.dataset.fingerprint == dataset_fingerprint(
        request.dataset, facts.sha256
    )
    return info if same else None


def _read_file(request: ScoreRequest, samples: list[Sample]) -> SplitPredictions:
    label = f"split {request.split!r} of {request.dataset}"
    ids = {s.id for s in samples}
    if request.format == "mig-bench":
        raw, unmatched = read_mig_bench_replies(request.predictions, str(request.convention), samples, label)
        matched = match_to_split(request.predictions, raw, ids, label)
        matched.extra += unmatched
        if unmatched and not raw.answers and not raw.problems:
            matched.problems = [p for p in matched.problems if p.field != "<file>"]
        return matched
    raw = read_raw_predictions(request.predictions, request.format, request.convention)
    return match_to_split(request.predictions, raw, ids, label)


def _refuse(request: ScoreRequest, problems: list[PredictionProblem], extra: list[PredictionProblem]) -> None:
    listed = sorted(problems + extra, key=lambda p: (p.line, p.field))
    hint = " (pass --allow-extra to ignore predictions for samples outside the split)" if extra else ""
    raise PredictionsInvalid(
        f"{request.predictions}: {len(listed)} problem(s); nothing was scored or written{hint}:\n"
        + "\n".join(f"  {p}" for p in listed),
        listed,
    )


class _Scoring:
    def __init__(self, request: ScoreRequest, console: Console) -> None:
        self.request, self.console = request, console
        self.facts = FileFacts(request.output_dir / CACHE_DIR_NAME / FILE_FACTS_NAME)

    def b_size(self, sample: Sample) -> tuple[int, int]:
        path = resolve_dataset_path(self.request.dataset, sample.image_b)
        return self.facts.image_size(path, lambda p: load_image(p).size)

    def records(self, samples: list[Sample], read: SplitPredictions, scale: str) -> dict[str, PredictionRecord]:
        """One record per sample, or PredictionsInvalid with every problem."""
        request = self.request
        fingerprints = sample_fingerprints(request.dataset, samples, self.facts)
        problems = list(read.problems)
        records: dict[str, PredictionRecord] = {}
        for sample in samples:
            answer = read.answers.get(sample.id)
            if answer is None:
                records[sample.id] = missing_record(sample.id, fingerprints[sample.id])
                continue
            width, height = self.b_size(sample)
            record, box_problems = answer_record(
                answer, fingerprints[sample.id], scale, width, height, str(request.predictions)
            )
            records[sample.id] = record
            problems += box_problems
        if problems or (read.extra and not request.allow_extra):
            _refuse(request, problems, read.extra)
        return records

    def new_run_info(self, run_id: str, samples: list[Sample], invalid: dict) -> RunInfo:
        request = self.request
        return RunInfo(
            run_id=run_id,
            status=RunStatus.COMPLETE,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            argv=request.argv,
            config=RunSettings(models=[request.name], split=request.split, dataset=str(request.dataset)),
            dataset=dataset_record(request.dataset, self.facts, len(samples), invalid),
            environment=run_environment(),
        )

    def execute(self) -> ScoreResult:
        request, started = self.request, time.perf_counter()
        check_model_name(request.name)
        scale = resolve_scale(request)
        if request.run_id is not None:
            check_run_id(request.run_id)
        joining = _same_run(request.output_dir / request.run_id, request, self.facts) if request.run_id else None
        config = RunConfig(
            models=[request.name],
            split=request.split,
            dataset=request.dataset,
            limit=joining.config.limit if joining else None,
            skip_invalid=bool(joining and joining.dataset.invalid_count),
            extra_strata=list(joining.config.extra_strata) if joining else [],
            iou_thresholds=tuple(joining.config.iou_thresholds) if joining else DEFAULT_IOU_THRESHOLDS,
        )
        samples, invalid = select_samples(config, self.console, self.facts)
        read = _read_file(request, samples)
        records = self.records(samples, read, scale)
        make_output_folder(request.output_dir, "--output-dir")
        run_id = request.run_id or new_run_id(request.split, request.output_dir)
        run_dir = request.output_dir / run_id
        with RunLock(run_dir):
            check_run_reuse(run_dir, request.dataset, request.split, request.force, self.facts)
            info_path = run_dir / RUN_INFO_NAME
            joined = info_path.is_file()
            info = read_run_info(info_path) if joined else self.new_run_info(run_id, samples, invalid)
            old = info.models.get(request.name)
            if old is not None and not old.scored:
                raise HarnessError(
                    f"run {run_id} already has a model {request.name!r} that the harness ran; "
                    "pass another --name (a model scored from a file is replaced by scoring it again)"
                )
            entry = self.write_model(run_dir, samples, records, read, scale, config, started)
            info.models[request.name] = entry
            write_json_atomic(info_path, info.to_json())
            self.facts.save()
        return ScoreResult(
            run_dir=run_dir,
            entry=entry,
            joined=joined,
            absent=sum(1 for s in samples if s.id not in read.answers),
            empty_replies=sum(1 for a in read.answers.values() if a.reply is not None and not a.boxes),
            ignored=read.extra,
        )

    def write_model(
        self,
        run_dir: Path,
        samples: list[Sample],
        records: dict[str, PredictionRecord],
        read: SplitPredictions,
        scale: str,
        config: RunConfig,
        started: float,
    ) -> ModelEntry:
        request = self.request
        out = run_dir / model_dir_name(request.name)
        ordered = [records[s.id] for s in samples]
        write_text_atomic(
            out / PREDICTIONS_NAME, "".join(json.dumps(r.to_json_dict(), sort_keys=True) + "\n" for r in ordered)
        )
        _, metrics = score_records(
            samples, records, config.extra_strata, request.output_dir, pixel=True, iou_thresholds=config.iou_thresholds
        )
        info = {
            "source": SCORED_SOURCE,
            "predictions_file": str(request.predictions),
            "predictions_sha256": file_sha256(request.predictions),
            "predictions_format": request.format,
            "convention": request.convention,
            "boxes": scale,
            "n": len(samples),
            "errors": sum(1 for r in ordered if r.error),
            "clipped": sum(1 for r in ordered if r.clipped),
            "no_prediction": sum(1 for r in ordered if not r.error and not r.boxes),
            "ignored_predictions": len(read.extra),
            "seconds": round(time.perf_counter() - started, 3),
        }
        info = {k: v for k, v in info.items() if v is not None}
        write_model_metrics(out, request.name, request.split, info, metrics)
        entry = ModelEntry.from_json(request.name, {"status": ModelStatus.DONE.value, **info}, run_id=run_dir.name)
        entry.metrics = metrics
        return entry


def score_predictions(request: ScoreRequest, console: Console | None = None) -> ScoreResult:
    """Score a predictions file into a run folder (new, or joining a run of the same dataset and split)."""
    return _Scoring(request, console or Console(stderr=True)).execute()
