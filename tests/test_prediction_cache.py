"""The prediction cache survives torn writes and never caches errors."""

from __future__ import annotations

from pathlib import Path

from harness.run.prediction_cache import PredictionCache, sample_fingerprint
from harness.run.prediction_record import PredictionRecord, error_record


def _record(i: int) -> PredictionRecord:
    return PredictionRecord(id=f"s{i}", sample_fp=f"fp{i}", boxes=[[0.0, 0.0, 1.0 + i, 2.0]], scores=[0.5])


def test_roundtrip_and_torn_last_line(tmp_path: Path) -> None:
    cache = PredictionCache(tmp_path, "model/x", "ab" * 32)
    assert "model_x" in str(cache.path)
    cache.put_many([_record(0), _record(1), error_record("s2", "fp2", "boom")])
    with cache.path.open("a") as fh:
        fh.write('{"sample_fp": "fp3", "predic')  # killed mid-write
    reopened = PredictionCache(tmp_path, "model/x", "ab" * 32)
    assert len(reopened) == 2 and reopened.torn_lines == 1
    assert reopened.get("fp2", "s2") is None, "errors must be retried, not cached"
    hit = reopened.get("fp1", "other-id")
    assert hit is not None and hit.id == "other-id" and hit.boxes == [[0.0, 0.0, 2.0, 2.0]]
    reopened.put_many([_record(3)])
    again = PredictionCache(tmp_path, "model/x", "ab" * 32)
    assert len(again) == 3 and again.torn_lines == 1


def test_other_fingerprint_is_another_cache(tmp_path: Path) -> None:
    PredictionCache(tmp_path, "m", "aa" * 32).put_many([_record(0)])
    assert len(PredictionCache(tmp_path, "m", "bb" * 32)) == 0


def test_sample_fingerprint_depends_on_query_and_both_images() -> None:
    base = sample_fingerprint("q", "a", "b")
    assert base == sample_fingerprint("q", "a", "b")
    assert (
        len(
            {
                base,
                sample_fingerprint("q2", "a", "b"),
                sample_fingerprint("q", "a2", "b"),
                sample_fingerprint("q", "a", "b2"),
            }
        )
        == 4
    )
