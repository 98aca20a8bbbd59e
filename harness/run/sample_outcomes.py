"""Turning manifest samples and stored predictions into the per-sample records metrics score."""

from __future__ import annotations

from collections.abc import Sequence

from harness.data.schema import Sample
from harness.metrics import SampleOutcome
from harness.run.prediction_record import PredictionRecord

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
