"""MIG-Bench-style output records, matched to the samples of a split by image pair and question.

The file is a JSON list of records or one record a line (JSONL), told apart by its first
character. A record holds `question`, `images` ([A, B] paths) and the model's reply in `reply`,
or else `answer`, or else `response` (the first of them present is read, and must be text).

A record matches a sample when the questions are equal (whitespace collapsed) and each image path
of the record and of the sample end in the same path components (`/data/mig/images/x_b.png`
matches `images/x_b.png`). A sample offers its manifest paths and query, and, for a dataset
imported from MIG-Bench (`harness data import mig-bench`), the source record's own `images` and
`question` kept in its attributes. A record that matches no sample of the split is listed like a
prediction for an unknown id; a record that matches several is a problem.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.data.schema import Sample
from harness.run.external_predictions import (
    PredictionProblem,
    PredictionsReader,
    RawPredictions,
    reply_answer,
)

REPLY_FIELDS = ("reply", "answer", "response")

Key = tuple[tuple[str, ...], tuple[str, ...], str]


def _parts(path: str) -> tuple[str, ...]:
    """A path's components, separators unified, `.` and empty parts dropped."""
    normal = posixpath.normpath(path.replace("\\", "/"))
    return tuple(p for p in normal.split("/") if p not in ("", "."))


def _same_file(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    n = min(len(a), len(b))
    return n > 0 and a[-n:] == b[-n:]


def _question(text: str) -> str:
    return " ".join(text.split())


def _sample_keys(sample: Sample) -> list[Key]:
    keys = [(_parts(sample.image_a), _parts(sample.image_b), _question(sample.query))]
    images, question = sample.attributes.get("images"), sample.attributes.get("question")
    if isinstance(images, list) and len(images) == 2 and all(isinstance(i, str) for i in images):
        if isinstance(question, str):
            keys.append((_parts(images[0]), _parts(images[1]), _question(question)))
    return keys


class SampleMatcher:
    """The samples of a split indexed by (A file name, B file name, question)."""

    def __init__(self, samples: list[Sample]) -> None:
        self._index: dict[tuple[str, str, str], list[tuple[Key, str]]] = {}
        for sample in samples:
            for key in _sample_keys(sample):
                if key[0] and key[1]:
                    self._index.setdefault((key[0][-1], key[1][-1], key[2]), []).append((key, sample.id))

    def match(self, image_a: str, image_b: str, question: str) -> list[str]:
        a, b, q = _parts(image_a), _parts(image_b), _question(question)
        if not a or not b:
            return []
        found = [
            sample_id
            for (sa, sb, _), sample_id in self._index.get((a[-1], b[-1], q), [])
            if _same_file(a, sa) and _same_file(b, sb)
        ]
        return list(dict.fromkeys(found))


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _list_records(reader: PredictionsReader, text: str) -> Iterator[tuple[int, Any]]:
    """The items of a JSON list with the line each starts on; a syntax error stops the reading."""
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text) and text[pos] == "]":
            return
        start = pos
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            reader.problem(_line_of(text, exc.pos), "<json>", f"is not valid JSON ({exc.msg})")
            return
        yield _line_of(text, start), item
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos >= len(text) or text[pos] != "]":
            reader.problem(_line_of(text, pos), "<json>", "is not valid JSON (expected ',' or ']' after a record)")
            return


def _records(reader: PredictionsReader) -> Iterator[tuple[int, Any]]:
    raw = reader.path.read_bytes() if reader.path.is_file() else b""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        yield from reader.objects()  # per line, so the lines that are not UTF-8 are named
        return
    if text.lstrip().startswith("["):
        yield from _list_records(reader, text)
    else:
        yield from reader.objects()


def _reply(reader: PredictionsReader, line: int, record: dict[str, Any]) -> str | None:
    for name in REPLY_FIELDS:
        if name in record:
            value = record[name]
            if isinstance(value, str):
                return value
            reader.problem(line, name, f"must be the model's text reply, got {value!r}")
            return None
    reader.problem(line, "reply", f"is missing (the reply is read from {', '.join(REPLY_FIELDS)})")
    return None


def read_mig_bench_replies(
    path: Path, convention: str, samples: list[Sample], split_label: str
) -> tuple[RawPredictions, list[PredictionProblem]]:
    """Answers (by matched sample id) and problems, and the records that match no sample."""
    reader = PredictionsReader(path)
    if not reader.path.is_file():
        list(reader.lines())  # raises the clear "cannot read" error
    matcher = SampleMatcher(samples)
    unmatched: list[PredictionProblem] = []
    for line, record in _records(reader):
        if not isinstance(record, dict):
            reader.problem(line, "<record>", f"must be a JSON object, got {type(record).__name__}")
            continue
        question, images = record.get("question"), record.get("images")
        if not isinstance(question, str) or not question.strip():
            reader.problem(line, "question", f"must be a non-empty string, got {question!r}")
        if not (isinstance(images, list) and len(images) == 2 and all(isinstance(i, str) and i for i in images)):
            reader.problem(line, "images", f"must list two image paths [A, B], got {images!r}")
            images = None
        reply = _reply(reader, line, record)
        if reply is None or images is None or not isinstance(question, str) or not question.strip():
            continue
        ids = matcher.match(images[0], images[1], question)
        if not ids:
            unmatched.append(
                PredictionProblem(
                    str(path), line, "images", f"{images} with question {question!r} match no sample of {split_label}"
                )
            )
        elif len(ids) > 1:
            reader.problem(line, "images", f"{images} with this question match {len(ids)} samples ({', '.join(ids)})")
        else:
            reader.out.answers.append(reply_answer(ids[0], line, reply, convention))
    return reader.out, unmatched
