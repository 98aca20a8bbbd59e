"""One model over the whole split (or a control of it), on every rank of a run: each rank predicts
its shard (`ShardPredictor`), rank 0 merges the ranks' files, scores, and writes
`<run>/<name>/metrics.json`."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from harness.data.images import resolve_dataset_path
from harness.data.schema import Sample
from harness.files.atomic import write_json_atomic
from harness.files.file_facts import FileFacts
from harness.metrics import DEFAULT_IOU_THRESHOLDS, SampleOutcome, paired_box_iou
from harness.metrics.box_iou import HIT_IOU, top1_boxes
from harness.metrics.change_detection import pixel_change_metrics
from harness.metrics.iou_thresholds import with_main_threshold
from harness.metrics.paired import paired_test
from harness.run.distributed import DistContext
from harness.run.metrics_cache import cached_metrics
from harness.run.prediction_cache import CACHE_DIR_NAME, PredictionCache, sample_fingerprint
from harness.run.prediction_record import PredictionRecord
from harness.run.run_folder import (
    METRICS_NAME,
    PREDICTIONS_NAME,
    merge_rank_predictions,
    model_dir_name,
    rank_predictions_name,
)
from harness.run.run_records import SCHEMA_VERSION, ModelEntry, ModelStatus
from harness.run.sample_outcomes import BUILTIN_STRATA, outcomes_for
from harness.run.shard_predictor import ShardPredictor
from idg_adapters.base import Adapter


def sample_fingerprints(root: Path, samples: list[Sample], facts: FileFacts) -> dict[str, str]:
    return {
        s.id: sample_fingerprint(
            s.query,
            facts.sha256(resolve_dataset_path(root, s.image_a)),
            facts.sha256(resolve_dataset_path(root, s.image_b)),
        )
        for s in samples
    }


def peak_memory_mb(device: str) -> dict[str, float | None]:
    """Process peak RSS so far (Linux reports KiB) and, on CUDA, the peak allocated since reset."""
    peak = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "cuda_peak_mb": None}
    torch = sys.modules.get("torch")
    if torch is not None and device.startswith("cuda") and torch.cuda.is_available():
        peak["cuda_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        torch.cuda.reset_peak_memory_stats()
    return peak


def pair_mask_paths(samples: list[Sample]) -> dict[str, list[str]]:
    """Each pair's difference masks (those of its samples in the run); pairs without masks left out."""
    paths: dict[str, list[str]] = {}
    for s in samples:
        if s.mask_b:
            paths.setdefault(s.pair_id, [])
            if s.mask_b not in paths[s.pair_id]:
                paths[s.pair_id].append(s.mask_b)
    return paths


def pixel_metrics_of(samples: list[Sample], records: dict[str, PredictionRecord]) -> dict[str, Any] | None:
    """Pixel-level change metrics over the split, one count per pair (its first sample by id):
    a change map does not depend on the query, so a pair is counted once, not once per query."""
    first_of_pair: dict[str, PredictionRecord] = {}
    for s in sorted(samples, key=lambda s: s.id):
        record = records[s.id]
        if s.pair_id not in first_of_pair and record.change_counts is not None:
            first_of_pair[s.pair_id] = record
    if not first_of_pair:
        return None
    return pixel_change_metrics(np.array([r.change_counts for r in first_of_pair.values()]))


def score_records(
    samples: list[Sample],
    records: dict[str, PredictionRecord],
    extra_strata: list[str],
    output_dir: Path,
    pixel: bool,
    iou_thresholds: Sequence[float] = DEFAULT_IOU_THRESHOLDS,
) -> tuple[list[SampleOutcome], dict[str, Any]]:
    """The outcomes of `records` (one per sample) and their metrics (Acc@τ at `iou_thresholds`),
    computed through the metrics cache under `output_dir`; with `pixel`, the pixel-level change
    metrics of records that carry change counts are added as `pixel_change`."""
    strata = list(BUILTIN_STRATA) + [a for a in extra_strata if a not in BUILTIN_STRATA]
    outcomes = outcomes_for(samples, records, extra_strata)
    thresholds = with_main_threshold(iou_thresholds)  # Acc@0.5 always: leaderboards rank by it
    metrics = cached_metrics(outcomes, strata, Path(output_dir) / CACHE_DIR_NAME / "metrics", thresholds)
    pixel_metrics = pixel_metrics_of(samples, records) if pixel else None
    if pixel_metrics is not None:
        metrics = {**metrics, "pixel_change": pixel_metrics}
    return outcomes, metrics


def reply_counts(records: dict[str, PredictionRecord]) -> dict[str, Any]:
    """For models that answer in text: samples answered without a readable box (`no_prediction`)
    and the tokens the answers cost (`tokens`: totals and the mean per answered sample). Empty
    for a model that returned neither replies nor token counts."""
    rows = list(records.values())
    out: dict[str, Any] = {}
    if any(r.reply is not None for r in rows):
        out["no_prediction"] = sum(1 for r in rows if r.error is None and not r.boxes)
    used = [r.usage for r in rows if r.usage]
    if used:
        prompt = sum(u.get("prompt_tokens", 0) for u in used)
        completion = sum(u.get("completion_tokens", 0) for u in used)
        out["tokens"] = {
            "prompt": prompt,
            "completion": completion,
            "samples": len(used),
            "per_sample": round((prompt + completion) / len(used), 1),
        }
    return out


def write_model_metrics(model_dir: Path, name: str, split: str, info: dict[str, Any], metrics: dict[str, Any]) -> None:
    """`<model_dir>/metrics.json`: schema version, model, split, the model's run info and the metrics."""
    write_json_atomic(
        model_dir / METRICS_NAME,
        {"schema_version": SCHEMA_VERSION, "model": name, "split": split, **info, "metrics": metrics},
    )


def top1_hits(outcomes: list[SampleOutcome], tau: float = HIT_IOU) -> np.ndarray:
    """Per-sample Acc@tau hits, in the outcomes' order; errors and empty predictions miss."""
    top = top1_boxes([o.boxes for o in outcomes], [o.error is None for o in outcomes])
    iou, _, _ = paired_box_iou(top, np.array([o.target for o in outcomes]).reshape(-1, 4))
    return iou >= tau


def _drop(normal: np.ndarray, control: np.ndarray) -> dict[str, Any]:
    """Acc@0.5 of the normal run minus the control's, paired over samples, with CI and McNemar p."""
    result = paired_test(normal, control, "overall", stream="control-drop")
    return {"acc@0.5": result.diff, "ci": list(result.ci), "p_value": result.p_value}


class ModelOnSplit:
    """One model over one list of samples: `execute` predicts, merges, scores and records."""

    def __init__(
        self,
        *,
        adapter: Adapter,
        name: str,
        samples: list[Sample],
        dataset: Path,
        split: str,
        output_dir: Path,
        batch_size: int,
        use_cache: bool,
        loader_workers: int,
        extra_strata: list[str],
        dist: DistContext,
        facts: FileFacts,
        device: str,
        extra_info: dict[str, Any],
        baseline_hits: np.ndarray | None = None,
        iou_thresholds: Sequence[float] = DEFAULT_IOU_THRESHOLDS,
    ) -> None:
        self.adapter, self.name, self.samples = adapter, name, samples
        self.dataset, self.split, self.output_dir = dataset, split, output_dir
        self.batch_size, self.use_cache, self.loader_workers = batch_size, use_cache, loader_workers
        self.extra_strata = extra_strata
        self.iou_thresholds = iou_thresholds
        self.dist, self.facts, self.device, self.extra_info = dist, facts, device, extra_info
        self.baseline_hits = baseline_hits  # the normal run's hits, when this is a control
        self.hits: np.ndarray | None = None  # Acc@0.5 hits per sample (rank 0), for controls

    def execute(self, run_dir: Path, progress: Progress) -> ModelEntry:
        dist, adapter, name, samples = self.dist, self.adapter, self.name, self.samples
        started = time.perf_counter()
        shard = dist.shard(samples, key=lambda sample: (sample.image_a, sample.image_b))  # a pair's queries together
        out = run_dir / model_dir_name(name)
        file_name = rank_predictions_name(dist.rank) if dist.active else PREDICTIONS_NAME
        predictor = ShardPredictor(
            adapter=adapter,
            samples=shard,
            fingerprints=sample_fingerprints(self.dataset, shard, self.facts),
            dataset=self.dataset,
            cache=PredictionCache(self.output_dir, adapter.name, adapter.fingerprint()),
            predictions_path=out / file_name,
            batch_size=self.batch_size,
            use_cache=self.use_cache,
            loader_workers=self.loader_workers,
            pair_masks=None if "control" in self.extra_info else pair_mask_paths(samples),
        )
        label = name if not dist.active else f"{name} (rank 0 of {dist.world_size})"
        task = progress.add_task(label, total=len(shard))
        records = predictor.run(
            on_start=lambda total, cached: progress.update(task, total=total, completed=cached),
            on_batch=lambda n: progress.advance(task, n),
        )
        shard_stats = dist.gather({"cached": predictor.n_cached, **peak_memory_mb(self.device)})
        if not dist.is_main:
            return ModelEntry(name=name, status=ModelStatus.DONE)
        if dist.active:
            records = merge_rank_predictions(out, dist.world_size, [s.id for s in samples])
        seconds = time.perf_counter() - started
        outcomes, metrics = score_records(
            samples,
            records,
            self.extra_strata,
            self.output_dir,
            pixel="control" not in self.extra_info,
            iou_thresholds=self.iou_thresholds,
        )
        self.hits = top1_hits(outcomes)
        if self.baseline_hits is not None:
            self.extra_info = {**self.extra_info, "drop": _drop(self.baseline_hits, self.hits)}
        cached = sum(s["cached"] for s in shard_stats)
        computed = len(samples) - cached
        info = {
            **self.extra_info,
            "fingerprint": adapter.fingerprint(),
            "options": adapter.options,
            "uses_query": adapter.uses_query,
            "uses_image_a": adapter.uses_image_a,
            "n": len(samples),
            "computed": computed,
            "cached": cached,
            "errors": sum(1 for r in records.values() if r.error),
            "clipped": sum(1 for r in records.values() if r.clipped),
            **reply_counts(records),
            "seconds": round(seconds, 3),
            "ms_per_computed_sample": round(1000 * seconds / computed, 3) if computed else None,
            "samples_per_second": round(computed / seconds, 2) if computed and seconds > 0 else None,
            "params": adapter.num_parameters(),
            "trained_on": adapter.training_data(),
            "processes": dist.world_size,
            "peak_rss_mb": max(s["peak_rss_mb"] for s in shard_stats),
            "cuda_peak_mb": max(
                (s["cuda_peak_mb"] for s in shard_stats if s["cuda_peak_mb"] is not None), default=None
            ),
        }
        write_model_metrics(out, name, self.split, info, metrics)
        entry = ModelEntry.from_json(name, {"status": ModelStatus.DONE.value, **info})
        entry.metrics = metrics
        return entry
