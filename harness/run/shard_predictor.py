"""One adapter over one shard of samples: cache lookups, batched prediction, checked records.

Records are appended to the shard's predictions file and to the cache after every batch, so a
kill loses at most the batch in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.schema import Sample
from harness.metrics.change_detection import change_confusion
from harness.run.pair_loader import LoadedBatch, iterate_pairs
from harness.run.prediction_cache import PredictionCache
from harness.run.prediction_record import PredictionRecord, check_prediction, error_record
from harness.run.run_folder import PredictionsWriter
from idg_adapters.base import Adapter, PairInput


def predict_isolating_failures(adapter: Adapter, batch: list[PairInput]) -> list[Any]:
    """Adapter outputs for a batch; when the batch call fails, retry one by one to find the culprits.

    Returns a Prediction-like object or an error string per input.
    """
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
        results.extend(predict_isolating_failures(adapter, [item]))
    return results


class ShardPredictor:
    """Predicts `adapter` on one shard of samples, writing to `predictions_path` as batches finish.

    Batches hold `adapter.preferred_batch_size(batch_size)` samples: the asked size, or more for an
    adapter that answers a batch concurrently (`vlm-api` asks for at least its `max_concurrency`).
    """

    def __init__(
        self,
        *,
        adapter: Adapter,
        samples: list[Sample],
        fingerprints: dict[str, str],
        dataset: Path,
        cache: PredictionCache,
        predictions_path: Path,
        batch_size: int,
        use_cache: bool = True,
        loader_workers: int = 0,
        pair_masks: dict[str, list[str]] | None = None,
    ) -> None:
        self.adapter = adapter
        self.samples = samples
        self.fps = fingerprints
        self.dataset = dataset
        self.cache = cache
        self.predictions_path = predictions_path
        self.batch_size = max(1, int(adapter.preferred_batch_size(batch_size)))
        self.use_cache = use_cache
        self.loader_workers = loader_workers
        self.pair_masks = pair_masks
        self.n_cached = 0

    def run(self, on_start: Callable[[int, int], None], on_batch: Callable[[int], None]) -> dict[str, PredictionRecord]:
        """Records by sample id; `on_start(total, cached)` then `on_batch(n)` report progress."""
        records: dict[str, PredictionRecord] = {}
        writer = PredictionsWriter(self.predictions_path)
        try:
            cached = []
            if self.use_cache:
                for s in self.samples:
                    hit = self.cache.get(self.fps[s.id], s.id)
                    if hit is not None:
                        records[s.id] = hit
                        cached.append(hit)
            self.n_cached = len(cached)
            writer.append(cached)
            on_start(len(self.samples), len(cached))
            todo = [s for s in self.samples if s.id not in records]
            batches = [todo[i : i + self.batch_size] for i in range(0, len(todo), self.batch_size)]
            for loaded in iterate_pairs(self.dataset, batches, self.loader_workers, self.pair_masks):
                new = self._predict(loaded)
                self.cache.put_many(new)
                writer.append(new)
                records.update((r.id, r) for r in new)
                on_batch(len(new))
            writer.finish([records[s.id] for s in self.samples])
        finally:
            writer.close()
        return records

    def _predict(self, loaded: LoadedBatch) -> list[PredictionRecord]:
        inputs = [item for _, item, _ in loaded if isinstance(item, PairInput)]
        outputs = iter(predict_isolating_failures(self.adapter, inputs) if inputs else [])
        records = []
        for sample, item, changed in loaded:
            fp = self.fps[sample.id]
            if isinstance(item, str):
                records.append(error_record(sample.id, fp, item))
                continue
            output = next(outputs)
            if isinstance(output, str):
                records.append(error_record(sample.id, fp, output))
            else:
                width, height = item.size
                record = check_prediction(output, sample.id, fp, width, height)
                mask = getattr(output, "mask", None)
                if record.error is None and changed is not None and mask is not None:
                    if np.shape(mask) == changed.shape:  # an adapter's mask in another frame is not scored
                        record.change_counts = list(change_confusion(np.asarray(mask) > 0.5, changed))
                records.append(record)
        return records
