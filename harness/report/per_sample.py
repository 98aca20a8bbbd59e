"""Per-sample results of one model: predictions joined with the manifest, IoU and failure class."""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from harness.data.images import resolve_dataset_path
from harness.data.manifest import read_manifest
from harness.data.schema import Sample
from harness.errors import HarnessError
from harness.metrics.box_iou import HIT_IOU, LOOSE_IOU, paired_box_iou, top1_boxes
from harness.report.failure_taxonomy import classify_outcome
from harness.report.runs import LoadedRun
from harness.run.run_folder import PREDICTIONS_NAME, model_dir_name, read_predictions

Box = tuple[float, float, float, float]


@dataclass
class SampleResult:
    """One sample as a model answered it: what reports and galleries show."""

    id: str
    pair_id: str
    query: str
    edit_type: str
    size: str
    image_a: str
    image_b: str
    target: Box
    top1: Box | None  # None for errors and empty predictions
    iou: float
    failure: str  # a failure_taxonomy class, or "hit"
    error: str | None = None
    others: list[Box] = field(default_factory=list)  # the pair's other differences
    reply: str | None = None  # the raw text answer of a model that answers in text


@dataclass
class RunDataset:
    """The dataset a run was scored on: its root and the samples of the manifest by id."""

    root: Path
    samples: dict[str, Sample]
    pairs: dict[str, list[Sample]]

    @classmethod
    def for_run(cls, run: LoadedRun) -> RunDataset:
        root = Path(run.info.config.dataset)
        if not (root / "manifest.jsonl").is_file():
            raise HarnessError(
                f"dataset {root} of run {run.run_id} is not here; per-sample reports (plots, galleries, "
                "comparisons) need it (run `harness report` from the folder the run was made in)"
            )
        samples = {s.id: s for s in read_manifest(root).samples}
        pairs: dict[str, list[Sample]] = defaultdict(list)
        for sample in samples.values():
            pairs[sample.pair_id].append(sample)
        return cls(root=root, samples=samples, pairs=dict(pairs))


class ChangedPixels:
    """Whether a box touches a changed pixel of its pair (see failure_taxonomy for the rule).

    Union masks are cached per pair, least recently used first out, up to `max_cached_bytes`, so
    memory stays bounded for any dataset size. Every model's results visit the pairs in the same
    order, so a cache smaller than the split's masks would miss on every visit; the default holds a
    typical split's (DiffGround-Synth test: about 350 pairs, under 50 MB).
    """

    def __init__(self, dataset: RunDataset, max_cached_bytes: int = 256 * 2**20) -> None:
        self.dataset = dataset
        self.max_cached_bytes = max_cached_bytes
        self._masks: OrderedDict[str, np.ndarray | None] = OrderedDict()
        self._cached_bytes = 0

    def _union_mask(self, pair_id: str) -> np.ndarray | None:
        if pair_id in self._masks:
            self._masks.move_to_end(pair_id)
            return self._masks[pair_id]
        members = self.dataset.pairs.get(pair_id, [])
        mask = None
        if members and all(s.mask_b for s in members):
            try:
                for sample in members:
                    with Image.open(resolve_dataset_path(self.dataset.root, sample.mask_b)) as image:
                        part = np.asarray(image.convert("L")) > 0
                    mask = part if mask is None or mask.shape != part.shape else mask | part
            except OSError:
                mask = None  # unreadable mask: fall back to the target boxes
        self._masks[pair_id] = mask
        self._cached_bytes += mask.nbytes if mask is not None else 0
        while self._cached_bytes > self.max_cached_bytes and len(self._masks) > 1:
            _, dropped = self._masks.popitem(last=False)
            self._cached_bytes -= dropped.nbytes if dropped is not None else 0
        return mask

    def touches(self, pair_id: str, box: Box) -> bool:
        mask = self._union_mask(pair_id)
        if mask is None:
            targets = np.array([s.box for s in self.dataset.pairs.get(pair_id, [])], dtype=np.float64)
            if not len(targets):
                return False
            _, inter, _ = paired_box_iou(np.repeat([box], len(targets), axis=0), targets)
            return bool((inter > 0).any())
        x1, y1 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
        x2, y2 = min(mask.shape[1], math.ceil(box[2])), min(mask.shape[0], math.ceil(box[3]))
        return x2 > x1 and y2 > y1 and bool(mask[y1:y2, x1:x2].any())


def model_sample_results(
    run: LoadedRun, model: str, dataset: RunDataset, changed: ChangedPixels | None = None
) -> list[SampleResult]:
    """Every scored sample of `model` in `run`, in id order, with its IoU and failure class."""
    path = run.run_dir / model_dir_name(model) / PREDICTIONS_NAME
    if not path.is_file():
        raise HarnessError(f"{path} is missing: model {model!r} has no predictions in run {run.run_id}")
    changed = changed or ChangedPixels(dataset)
    records = sorted(read_predictions(path), key=lambda r: r.id)
    missing = [r.id for r in records if r.id not in dataset.samples]
    if missing:
        raise HarnessError(
            f"{len(missing)} predicted sample(s) of {model!r} (e.g. {missing[0]!r}) are not in the manifest of "
            f"{dataset.root}: the dataset changed since run {run.run_id}; rerun the model"
        )
    samples = [dataset.samples[r.id] for r in records]
    targets = np.array([s.box for s in samples], dtype=np.float64).reshape(-1, 4)
    top1 = top1_boxes([r.boxes for r in records], [r.error is None for r in records])
    ious, _, _ = paired_box_iou(top1, targets)
    results = []
    for record, sample, box, iou in zip(records, samples, top1, ious, strict=True):
        has_box = not np.isnan(box).any()
        pred = tuple(float(v) for v in box) if has_box else None
        others = [
            o.box for o in dataset.pairs[sample.pair_id] if o.id != sample.id and tuple(o.box) != tuple(sample.box)
        ]
        best_other = 0.0
        if has_box and others and iou < HIT_IOU:
            other_ious, _, _ = paired_box_iou(np.repeat(box[None], len(others), axis=0), np.array(others))
            best_other = float(other_ious.max())
        failure = classify_outcome(
            error=record.error is not None,
            has_box=has_box,
            iou=float(iou),
            best_other_iou=best_other,
            touches_change=has_box and iou < LOOSE_IOU and changed.touches(sample.pair_id, pred),
            has_reply=isinstance(record.reply, str),
        )
        results.append(
            SampleResult(
                id=sample.id,
                pair_id=sample.pair_id,
                query=sample.query,
                edit_type=sample.edit_type,
                size=sample.size_bucket,
                image_a=sample.image_a,
                image_b=sample.image_b,
                target=tuple(float(v) for v in sample.box),
                top1=pred,
                iou=float(iou),
                failure=failure,
                error=record.error,
                others=[tuple(float(v) for v in o) for o in others],
                reply=record.reply if isinstance(record.reply, str) else None,
            )
        )
    return results
