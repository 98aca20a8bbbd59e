"""The prediction cache: what an adapter answered for a sample, keyed by both fingerprints.

One append-only JSON-lines file per (adapter name, adapter fingerprint) under
`<results>/.cache/`; each line holds a sample fingerprint and the checked prediction. Lines are
flushed and fsynced per batch, so a crash or kill loses at most the batch in flight; a torn last
line (killed mid-write) is ignored on reading. Errors are never cached: they are retried.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path

from harness.files.file_names import safe_file_name
from harness.run.prediction_record import PredictionRecord

CACHE_DIR_NAME = ".cache"


def sample_fingerprint(query: str, image_a_sha: str, image_b_sha: str) -> str:
    """What a model's answer may depend on: the query and the bytes of both images."""
    blob = "\0".join(("idg-sample-v1", query, image_a_sha, image_b_sha))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class PredictionCache:
    """Cached predictions of one adapter configuration."""

    def __init__(self, results_dir: Path, adapter_name: str, adapter_fp: str) -> None:
        safe_name = safe_file_name(adapter_name)
        self.path = Path(results_dir) / CACHE_DIR_NAME / safe_name / f"{adapter_fp[:24]}.jsonl"
        self._records: dict[str, PredictionRecord] = {}
        self.torn_lines = 0
        if self.path.is_file():
            self._read()

    def _read(self) -> None:
        with self.path.open("r", encoding="utf-8") as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                    record = PredictionRecord.from_json_dict(row["prediction"])
                    self._records[row["sample_fp"]] = record
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    self.torn_lines += 1  # a write cut short by a kill; the sample is recomputed

    def __len__(self) -> int:
        return len(self._records)

    def get(self, sample_fp: str, sample_id: str) -> PredictionRecord | None:
        record = self._records.get(sample_fp)
        if record is None:
            return None
        # Two samples may share a fingerprint (same images and query); the answer is the same.
        return PredictionRecord(
            id=sample_id,
            sample_fp=sample_fp,
            boxes=record.boxes,
            scores=record.scores,
            clipped=record.clipped,
            change_counts=record.change_counts,
            reply=record.reply,
            usage=record.usage,
        )

    def put_many(self, records: list[PredictionRecord]) -> None:
        fresh = [r for r in records if r.error is None and r.sample_fp not in self._records]
        if not fresh:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for record in fresh:
            lines.append(
                json.dumps({"sample_fp": record.sample_fp, "prediction": record.to_json_dict()}, sort_keys=True)
            )
            self._records[record.sample_fp] = record
        with self.path.open("a", encoding="utf-8") as fh:
            # Ranks of a sharded run and concurrent runs append to the same file: one writer at a time.
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                # A torn last line from an earlier kill must not swallow the first new record.
                if os.fstat(fh.fileno()).st_size > 0 and not _ends_with_newline(self.path):
                    fh.write("\n")
                fh.write("\n".join(lines) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
