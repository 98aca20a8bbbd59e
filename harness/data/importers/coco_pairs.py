"""Importer for COCO-style pairs: COCO `images` and `annotations` plus a `pairs` list linking A and B.

    {"images": [{"id": 1, "file_name": "a/001.png", "width": 640, "height": 480}, ...],
     "pairs": [{"id": 7, "image_a": 1, "image_b": 2, "split": "test"}, ...],
     "annotations": [{"id": 3, "pair_id": 7, "image_id": 2, "bbox": [x, y, w, h],
                      "query": "...", "edit_type": "remove"}, ...]}

Each annotation is one query; `bbox` is COCO xywh in pixels of B. An annotation names its pair
by `pair_id`, or else by `image_id` when exactly one pair has that image as B. `file_name` is
relative to the JSON's folder. `width`/`height`, when given, must match the image file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data.importers.box_conversion import pixel_box_in_image, xywh_to_xyxy
from harness.data.importers.image_placement import SourceImage
from harness.data.importers.import_options import ImportOptions
from harness.data.importers.import_report import ImportReport, ImportSourceError, RowRejected, read_source_text
from harness.data.importers.import_session import ImportSession, edit_type_from, query_from

FORMAT = "coco-pairs"


@dataclass(frozen=True)
class _Pair:
    index: int
    record: dict[str, Any]
    image_a: SourceImage
    image_b: SourceImage
    split: str

    def source_fields(self, images: dict[Any, dict]) -> dict[str, Any]:
        a, b = (images[_hashable(self.record.get(k))] for k in ("image_a", "image_b"))
        return {"pair": self.record, "images": {"a": a, "b": b}}


def _load(source: Path) -> dict[str, Any]:
    text = read_source_text(source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportSourceError(f"{source}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ImportSourceError(f"{source}: COCO data must be a JSON object, got {type(data).__name__}")
    for key in ("images", "annotations", "pairs"):
        if not isinstance(data.get(key), list):
            raise ImportSourceError(f"{source}: needs a list '{key}' (COCO images and annotations, plus pairs A->B)")
    return data


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else repr(value)


def _image(session: ImportSession, images: dict[Any, dict], image_id: Any, field: str) -> SourceImage:
    record = images.get(_hashable(image_id))
    if record is None:
        raise RowRejected(field, f"names image id {image_id!r}, which is not in 'images'")
    image = session.images.probe(record.get("file_name"), f"{field} (file_name of image {image_id!r})")
    declared = (record.get("width"), record.get("height"))
    if declared != (None, None) and declared != image.size:
        raise RowRejected(
            field,
            f"image {image_id!r} is declared {declared[0]}x{declared[1]} but the file is {image.size[0]}x{image.size[1]}",
        )
    return image


def _pair(session: ImportSession, images: dict[Any, dict], index: int, record: Any) -> _Pair:
    if not isinstance(record, dict):
        raise RowRejected("<pair>", f"must be a JSON object, got {type(record).__name__}")
    split = record.get("split", session.options.split)
    if not isinstance(split, str) or not split.strip():
        raise RowRejected("split", f"must be a non-empty string, got {split!r}")
    return _Pair(
        index=index,
        record=record,
        image_a=_image(session, images, record.get("image_a"), "image_a"),
        image_b=_image(session, images, record.get("image_b"), "image_b"),
        split=split.strip(),
    )


def _pair_of(annotation: dict, pairs: dict[Any, _Pair | RowRejected], pairs_by_b: dict[Any, list[Any]]) -> _Pair:
    if "pair_id" in annotation:
        key = _hashable(annotation["pair_id"])
        if key not in pairs:
            raise RowRejected("pair_id", f"names pair {annotation['pair_id']!r}, which is not in 'pairs'")
    else:
        candidates = pairs_by_b.get(_hashable(annotation.get("image_id")), [])
        if len(candidates) != 1:
            raise RowRejected(
                "image_id",
                f"has no pair_id and image {annotation.get('image_id')!r} is image B of {len(candidates)} pairs "
                "(need exactly one)",
            )
        key = candidates[0]
    pair = pairs[key]
    if isinstance(pair, RowRejected):
        raise RowRejected(pair.field, f"of pair {key!r} {pair.message}")
    return pair


def import_coco_pairs(source: Path, out: Path, options: ImportOptions) -> ImportReport:
    data = _load(source)
    session = ImportSession(FORMAT, source, out, options)
    images = {_hashable(r.get("id")): r for r in data["images"] if isinstance(r, dict)}
    pairs: dict[Any, _Pair | RowRejected] = {}
    pairs_by_b: dict[Any, list[Any]] = {}
    for index, record in enumerate(data["pairs"]):
        key = _hashable(record.get("id", index)) if isinstance(record, dict) else index
        if key in pairs:
            session.reject(f"pairs[{index}]", "id", f"duplicates pair id {key!r}; the first pair with it is used")
            continue
        try:
            pairs[key] = _pair(session, images, index, record)
            pairs_by_b.setdefault(_hashable(record.get("image_b")), []).append(key)
        except RowRejected as exc:
            # A broken pair is reported here and again on each of its annotations (the rows that fail).
            session.reject(f"pairs[{index}]", exc.field, exc.message)
            pairs[key] = exc
    for index, annotation in enumerate(data["annotations"]):
        try:
            if not isinstance(annotation, dict):
                raise RowRejected("<annotation>", f"must be a JSON object, got {type(annotation).__name__}")
            pair = _pair_of(annotation, pairs, pairs_by_b)
            box = xywh_to_xyxy(annotation.get("bbox"), "bbox")
            box = pixel_box_in_image(box, pair.image_b.size, "bbox")
            session.add(
                pair_id=f"{FORMAT}-pair-{_hashable(pair.record.get('id', pair.index))}",
                split=pair.split,
                image_a=pair.image_a,
                image_b=pair.image_b,
                query=query_from(annotation.get("query"), "query"),
                box=box,
                edit_type=edit_type_from(annotation.get("edit_type"), "edit_type"),
                # The annotation's fields under their own names (COCO xywh stays in `bbox`), then
                # the pair and image records it came with.
                attributes={**annotation, **pair.source_fields(images), "source_index": index},
            )
        except RowRejected as exc:
            session.reject(f"annotations[{index}]", exc.field, exc.message)
    return session.finish(rows_read=len(data["annotations"]))
