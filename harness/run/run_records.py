"""Typed records of a run folder: run.json (`RunInfo`) and each model's entry in it (`ModelEntry`).

Every writer builds these types and every reader (reports, resume checks) gets them back from
`read_run_info`; nobody reads run.json by string keys. run.json carries `schema_version`: a file
without the field is schema 1 (the same fields) and is read as such; a file from a newer schema
than this code knows is refused with a message naming both versions.

The cost columns of the leaderboards (parameters, speed, memory, tokens) are defined once here
(`COST_COLUMNS`), for the markdown and the HTML page alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.metrics.iou_thresholds import DEFAULT_IOU_THRESHOLDS

SCHEMA_VERSION = 2
"""Schema 1 is a run.json without the `schema_version` field and otherwise the same fields as 2."""


class _TextEnum(str, Enum):
    """An enum whose members are their JSON text, also in f-strings."""

    def __str__(self) -> str:
        return self.value


class RunStatus(_TextEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    CRASHED = "crashed"


class ModelStatus(_TextEnum):
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class RunRecordError(HarnessError):
    """A run.json that cannot be read: not JSON, a missing field, or a newer schema."""


@dataclass
class ModelEntry:
    """One model's outcome in a run: what ran and what it cost, or why it did not run.

    `metrics` is not part of run.json: reports load it from the model's metrics.json.
    """

    name: str
    status: ModelStatus
    reason: str | None = None
    how_to_enable: str | None = None
    fingerprint: str | None = None
    options: dict[str, Any] | None = None
    uses_query: bool | None = None
    uses_image_a: bool | None = None
    n: int | None = None
    computed: int | None = None
    cached: int | None = None
    errors: int | None = None
    clipped: int | None = None
    seconds: float | None = None
    ms_per_computed_sample: float | None = None
    samples_per_second: float | None = None
    params: int | None = None
    processes: int | None = None
    peak_rss_mb: float | None = None
    cuda_peak_mb: float | None = None
    trained_on: dict[str, Any] | None = None  # the training set of the model's weights (provenance)
    control: str | None = None  # query-shuffle | a-blind | swap, for a control run
    base_model: str | None = None  # the model this control run belongs to
    drop: dict[str, Any] | None = None  # paired Acc@0.5 drop from the base model's run
    control_counts: dict[str, int] = field(default_factory=dict)  # what the control changed
    # A model scored from a predictions file (`harness score`) rather than run: `source` is
    # "scored" and the file's name, sha256, format, box convention and coordinate scale are kept.
    source: str = "run"
    predictions_file: str | None = None
    predictions_sha256: str | None = None
    predictions_format: str | None = None
    convention: str | None = None  # the reply parser's convention (text and mig-bench formats)
    boxes: str | None = None  # pixels | normalized | 0-1000: what the file's numbers meant
    no_prediction: int | None = None  # samples with no box (absent from the file, or a reply without one)
    tokens: dict[str, Any] | None = None  # a text model's token use: prompt, completion, samples, per_sample
    box_check: dict[str, Any] | None = None  # the box-convention self-check's fit, when it ran before the run
    ignored_predictions: int | None = None  # predictions for ids outside the split, ignored (--allow-extra)
    extra: dict[str, Any] = field(default_factory=dict)  # fields this version does not know
    metrics: dict[str, Any] | None = None
    run_id: str | None = None

    @property
    def done(self) -> bool:
        return self.status == ModelStatus.DONE

    @property
    def scored(self) -> bool:
        """Scored from a predictions file by `harness score`, not run by the harness."""
        return self.source == SCORED_SOURCE

    def to_json(self) -> dict[str, Any]:
        """The entry as run.json stores it under models[name]."""
        out: dict[str, Any] = {"status": self.status.value, "reason": self.reason, "how_to_enable": self.how_to_enable}
        if not self.done:
            return out
        for f in fields(self):
            if f.name in _NOT_STORED or f.name in out:
                continue
            value = getattr(self, f.name)
            if f.name in _OMITTED_WHEN_NONE and value is None:
                continue
            if f.name == "source" and value == RUN_SOURCE:
                continue  # written only for a scored model
            out[f.name] = value
        out.update(self.control_counts)
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, name: str, entry: dict[str, Any], run_id: str | None = None) -> ModelEntry:
        known = {f.name for f in fields(cls)} - _NOT_STORED
        try:
            status = ModelStatus(entry.get("status"))
        except ValueError:
            raise RunRecordError(f"model {name!r}: unknown status {entry.get('status')!r}") from None
        values = {k: v for k, v in entry.items() if k in known and k != "status"}
        rest = {k: v for k, v in entry.items() if k not in known}
        counts = {k: v for k, v in rest.items() if k in CONTROL_COUNT_KEYS}
        extra = {k: v for k, v in rest.items() if k not in CONTROL_COUNT_KEYS}
        return cls(name=name, status=status, control_counts=counts, extra=extra, run_id=run_id, **values)


_NOT_STORED = {"name", "metrics", "run_id", "control_counts", "extra"}
_OMITTED_WHEN_NONE = {
    "control",
    "base_model",
    "drop",
    "predictions_file",
    "predictions_sha256",
    "predictions_format",
    "convention",
    "boxes",
    "no_prediction",
    "ignored_predictions",
    "tokens",
    "box_check",
}
RUN_SOURCE = "run"
SCORED_SOURCE = "scored"
CONTROL_COUNT_KEYS = ("shuffled", "unchanged", "a_replaced", "relabelled", "rescaled")


@dataclass
class DatasetRecord:
    name: str
    version: str | None
    fingerprint: str
    n_samples: int
    invalid: dict[str, Any] = field(default_factory=dict)  # count, problems, warnings (harness/run/runner.py)

    @property
    def invalid_count(self) -> int:
        return int(self.invalid.get("count", 0))


@dataclass
class RunSettings:
    """What the run was asked to do (the `config` block of run.json)."""

    models: list[str]
    split: str
    dataset: str
    limit: int | None = None
    batch_size: int = 8
    device: str = "cpu"
    processes: int = 1
    use_cache: bool = True
    adapter_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra_strata: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    # Acc@τ thresholds of the metrics (a run.json without the field: the defaults, 0.25/0.5/0.75).
    iou_thresholds: list[float] = field(default_factory=lambda: list(DEFAULT_IOU_THRESHOLDS))


@dataclass
class RunInfo:
    """run.json: one `harness run` and the outcome of each of its models."""

    run_id: str
    status: RunStatus
    created: str
    argv: list[str]
    config: RunSettings
    dataset: DatasetRecord
    environment: dict[str, Any]
    models: dict[str, ModelEntry] = field(default_factory=dict)
    seconds: float | None = None
    error: str | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def split(self) -> str:
        return self.config.split

    def to_json(self) -> dict[str, Any]:
        out = {
            "schema_version": self.schema_version,
            "run_id": self.run_id,
            "status": self.status.value,
            "created": self.created,
            "argv": self.argv,
            "config": dict(vars(self.config)),
            "dataset": dict(vars(self.dataset)),
            "environment": self.environment,
            "models": {name: entry.to_json() for name, entry in self.models.items()},
        }
        if self.seconds is not None:
            out["seconds"] = self.seconds
        if self.error is not None:
            out["error"] = self.error
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "run.json") -> RunInfo:
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise RunRecordError(
                f"{source}: written with run.json schema {version!r}, newer than this idg-harness reads "
                f"(schema {SCHEMA_VERSION}); upgrade idg-harness to report it"
            )
        try:
            run_id = data["run_id"]
            return cls(
                run_id=run_id,
                status=RunStatus(data["status"]),
                created=data.get("created", ""),
                argv=list(data.get("argv", [])),
                config=_dataclass_from(RunSettings, data["config"]),
                dataset=_dataclass_from(DatasetRecord, data["dataset"]),
                environment=dict(data.get("environment", {})),
                models={n: ModelEntry.from_json(n, e, run_id) for n, e in data.get("models", {}).items()},
                seconds=data.get("seconds"),
                error=data.get("error"),
                schema_version=SCHEMA_VERSION,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, RunRecordError):
                raise
            raise RunRecordError(
                f"{source}: not a run record this version can read ({type(exc).__name__}: {exc})"
            ) from None


def _dataclass_from(cls: Callable[..., Any], data: dict[str, Any]) -> Any:
    """`cls` from a JSON object, ignoring keys it does not know (written by a newer minor version)."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in known})


def read_run_info(path: Path) -> RunInfo:
    """run.json at `path`, typed; RunRecordError names the file when it cannot be read."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunRecordError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict):
        raise RunRecordError(f"{path}: not a JSON object")
    return RunInfo.from_json(data, source=str(path))


def _fmt(value: Any, pattern: str) -> str:
    return "—" if value is None else pattern.format(value)


COST_COLUMNS: tuple[tuple[str, Callable[[ModelEntry], Any], str], ...] = (
    ("Params (M)", lambda e: None if e.params is None else e.params / 1e6, "{:.1f}"),
    ("ms / sample", lambda e: e.ms_per_computed_sample, "{:.1f}"),
    ("samples / s", lambda e: e.samples_per_second, "{:.1f}"),
    ("Peak RSS (MB)", lambda e: e.peak_rss_mb, "{:,.0f}"),
    ("CUDA peak (MB)", lambda e: e.cuda_peak_mb, "{:,.0f}"),
    ("Tokens / sample", lambda e: (e.tokens or {}).get("per_sample"), "{:,.0f}"),
    ("Computed", lambda e: e.computed, "{}"),
    ("Cached", lambda e: e.cached, "{}"),
)
"""(column title, the value of an entry, its format): the size, speed and memory columns of a leaderboard."""


def cost_values(entry: ModelEntry) -> list[tuple[str, Any, str]]:
    """(title, raw value, formatted text) per cost column."""
    return [(title, get(entry), _fmt(get(entry), pattern)) for title, get, pattern in COST_COLUMNS]
