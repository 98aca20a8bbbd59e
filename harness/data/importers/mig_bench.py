"""Importer for MIG-Bench (Migician) difference tasks: a JSON list of records, one query each.

A record: `task` (`static_diff`, `robust_diff`, ...), `images` (two paths relative to the JSON's
folder: A then B), `question`, `answer` (`[x1, y1, x2, y2]` normalised 0-1 in B's frame; a single
box nested in a list, or the same as a JSON string, is accepted) and `additional_info` (free
dict; its `edit_type` is used when present). Records naming the same two images form one pair.
Problems name records from 1 (`record 1` is the first); `source_index` keeps the 0-based index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.data.importers.box_conversion import normalised_to_pixels
from harness.data.importers.import_options import ImportOptions
from harness.data.importers.import_report import ImportReport, ImportSourceError, RowRejected, read_source_text
from harness.data.importers.import_session import ImportSession, edit_type_from, query_from

FORMAT = "mig-bench"


def _load_records(source: Path) -> list[Any]:
    text = read_source_text(source)
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportSourceError(f"{source}: not valid JSON ({exc})") from exc
    if isinstance(records, dict) and isinstance(records.get("data"), list):
        records = records["data"]  # some releases wrap the list
    if not isinstance(records, list):
        raise ImportSourceError(
            f"{source}: MIG-Bench data must be a JSON list of records, got {type(records).__name__}"
        )
    return records


def _answer_box(answer: Any) -> Any:
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError:
            raise RowRejected("answer", f"must be [x1, y1, x2, y2], got the text {answer!r}") from None
    if isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], (list, tuple)):
        answer = answer[0]
    return answer


def _convert(session: ImportSession, index: int, record: Any) -> None:
    if not isinstance(record, dict):
        raise RowRejected("<record>", f"must be a JSON object, got {type(record).__name__}")
    images = record.get("images")
    if not isinstance(images, list) or len(images) != 2:
        count = len(images) if isinstance(images, list) else type(images).__name__
        raise RowRejected("images", f"must list exactly two images (A, B), got {count}")
    info = record.get("additional_info")
    if info is not None and not isinstance(info, dict):
        raise RowRejected("additional_info", f"must be an object, got {type(info).__name__}")
    info = info or {}
    query = query_from(record.get("question"), "question")
    image_a = session.images.probe(images[0], "images[0]")
    image_b = session.images.probe(images[1], "images[1]")
    box = normalised_to_pixels(_answer_box(record.get("answer")), image_b.size, "answer")
    split = info.get("split", record.get("split", session.options.split))
    if not isinstance(split, str) or not split.strip():
        raise RowRejected("split", f"must be a non-empty string, got {split!r}")
    session.add(
        pair_id=session.pair_id(image_a, image_b),
        split=split.strip(),
        image_a=image_a,
        image_b=image_b,
        query=query,
        box=box,
        edit_type=edit_type_from(info.get("edit_type"), "additional_info.edit_type"),
        # Every source field as it was, under its own name (so `--strata task` works).
        attributes={**record, "source_index": index},
    )


def import_mig_bench(source: Path, out: Path, options: ImportOptions) -> ImportReport:
    records = _load_records(source)
    session = ImportSession(FORMAT, source, out, options)
    for index, record in enumerate(records):
        try:
            _convert(session, index, record)
        except RowRejected as exc:
            session.reject(f"record {index + 1}", exc.field, exc.message)  # numbered from 1, like lines
    return session.finish(rows_read=len(records))
