"""The run folder `results/<run-id>/`: run.json, and per model predictions.jsonl + metrics.json.

Whole-file writes (run.json, metrics.json, the final predictions.jsonl) go through
harness/files/atomic.py, so a reader or a crash never sees half a file.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from harness.errors import HarnessError
from harness.files.atomic import write_text_atomic
from harness.files.file_names import safe_file_name
from harness.run.prediction_record import PredictionRecord

RUN_INFO_NAME = "run.json"
PREDICTIONS_NAME = "predictions.jsonl"
METRICS_NAME = "metrics.json"


def model_dir_name(model: str) -> str:
    return safe_file_name(model)


_PLAIN_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}")


def check_run_id(run_id: str) -> str:
    """A run id is a plain folder name inside the output folder: no separators, no `..`."""
    if not _PLAIN_RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise HarnessError(
            f"--run-id {run_id!r}: must be a plain folder name of letters, digits and . _ - @ + "
            "(at most 200 characters, starting with a letter or digit, no '/' and no '..')"
        )
    return run_id


def clear_run_folder(run_dir: Path, keep: tuple[str, ...]) -> None:
    """Delete everything in `run_dir` except the names in `keep` (the lock file)."""
    for entry in Path(run_dir).iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def new_run_id(split: str, results_dir: Path) -> str:
    """A fresh run id (UTC time + split), claimed by creating its folder so two runs never share it."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{model_dir_name(split)}"
    run_id, n = base, 1
    while True:
        try:
            (Path(results_dir) / run_id).mkdir(parents=True, exist_ok=False)
            return run_id
        except FileExistsError:
            n += 1
            run_id = f"{base}-{n}"


class PredictionsWriter:
    """Appends records to predictions.jsonl as batches finish (flushed), then rewrites it in
    manifest order once the model is done, so finished runs are byte-stable."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("w", encoding="utf-8", newline="\n")

    def append(self, records: Iterable[PredictionRecord]) -> None:
        for record in records:
            self._fh.write(json.dumps(record.to_json_dict(), sort_keys=True) + "\n")
        self._fh.flush()

    def finish(self, records_in_order: list[PredictionRecord]) -> None:
        self._fh.close()
        text = "".join(json.dumps(r.to_json_dict(), sort_keys=True) + "\n" for r in records_in_order)
        write_text_atomic(self.path, text)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def read_predictions(path: Path) -> list[PredictionRecord]:
    records = []
    with Path(path).open("r", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                records.append(PredictionRecord.from_json_dict(json.loads(line)))
    return records


def rank_predictions_name(rank: int) -> str:
    """The predictions file of one rank of a sharded run, merged into predictions.jsonl by rank 0."""
    return f"predictions.rank{rank}.jsonl"


def merge_rank_predictions(out: Path, world_size: int, sample_ids: list[str]) -> dict[str, PredictionRecord]:
    """Rank 0 joins the ranks' prediction files into one predictions.jsonl in manifest order."""
    records: dict[str, PredictionRecord] = {}
    parts = [out / rank_predictions_name(r) for r in range(world_size)]
    for part in parts:
        records.update((r.id, r) for r in read_predictions(part))
    missing = [i for i in sample_ids if i not in records]
    if missing:
        raise RuntimeError(f"{out}: ranks returned no prediction for {len(missing)} sample(s), e.g. {missing[:3]}")
    ordered = [records[i] for i in sample_ids]
    write_text_atomic(
        out / PREDICTIONS_NAME, "".join(json.dumps(r.to_json_dict(), sort_keys=True) + "\n" for r in ordered)
    )
    for part in parts:
        part.unlink(missing_ok=True)
    return records
