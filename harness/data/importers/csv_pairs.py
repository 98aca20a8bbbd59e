"""Importer for a plain CSV of pairs: `image_a,image_b,query,x1,y1,x2,y2[,edit_type][,split]`.

One row per query; image paths are relative to the CSV's folder (or absolute); the box is in
pixels of image B (with `--normalized`, fractions 0-1 of B's size). Extra columns are kept as
attributes. Rows naming the same two images form one pair.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from harness.data.importers.box_conversion import normalised_to_pixels, pixel_box_in_image
from harness.data.importers.import_options import ImportOptions
from harness.data.importers.import_report import ImportReport, ImportSourceError, RowRejected, read_source_text
from harness.data.importers.import_session import ImportSession, edit_type_from, query_from

FORMAT = "csv"
REQUIRED_COLUMNS: tuple[str, ...] = ("image_a", "image_b", "query", "x1", "y1", "x2", "y2")
BOX_COLUMNS: tuple[str, ...] = ("x1", "y1", "x2", "y2")


def _convert(session: ImportSession, row: dict[str, str | None]) -> None:
    missing = [name for name in REQUIRED_COLUMNS if row.get(name) is None]
    if missing:  # csv.DictReader gives None for cells absent from a short row
        raise RowRejected(missing[0], f"is missing: the row has fewer cells than the header ({missing})")
    if row.get(None):  # type: ignore[call-overload]
        raise RowRejected("<row>", f"has more cells than the header: extra {row[None]!r}")  # type: ignore[index]
    query = query_from(row["query"], "query")
    image_a = session.images.probe(row["image_a"], "image_a")
    image_b = session.images.probe(row["image_b"], "image_b")
    values = [row[name] for name in BOX_COLUMNS]
    if session.options.normalized:
        box = normalised_to_pixels(values, image_b.size, "x1,y1,x2,y2")
    else:
        box = pixel_box_in_image(values, image_b.size, "x1,y1,x2,y2")
    split = (row.get("split") or "").strip() or session.options.split
    session.add(
        pair_id=session.pair_id(image_a, image_b),
        split=split,
        image_a=image_a,
        image_b=image_b,
        query=query,
        box=box,
        edit_type=edit_type_from(row.get("edit_type"), "edit_type"),
        attributes=dict(row),  # every column, as text, under its own name
    )


def import_csv(source: Path, out: Path, options: ImportOptions) -> ImportReport:
    text = read_source_text(source)  # spreadsheets often write a byte order mark; it is dropped
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportSourceError(
            f"{source}: the header must name the columns {', '.join(REQUIRED_COLUMNS)} "
            f"[, edit_type][, split]; missing {', '.join(missing)} (header: {header})"
        )
    reader.fieldnames = header
    session = ImportSession(FORMAT, source, out, options)
    rows = 0
    for row in reader:
        rows += 1
        try:
            _convert(session, row)
        except RowRejected as exc:
            session.reject(f"line {reader.line_num}", exc.field, exc.message)
    return session.finish(rows_read=rows)
