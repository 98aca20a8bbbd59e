"""A dataset's targets as COCO detection JSON: images are the B images, annotations the target boxes.

Category ids follow edit types (standard ones first, then any other, e.g. `unknown`); each
annotation also carries its `query`, `sample_id`, `pair_id`, `split` and `image_a`, which COCO
tools ignore.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.data.images import load_image, resolve_dataset_path
from harness.data.manifest import read_dataset_info
from harness.data.schema import EDIT_TYPES, Sample
from harness.data.validate import validate_dataset
from harness.errors import DatasetInvalid


def coco_from_samples(samples: list[Sample], root: Path, info: dict[str, Any] | None = None) -> dict[str, Any]:
    """COCO dict for `samples`; B's size comes from the manifest, else from the image file."""
    present = {s.edit_type for s in samples}
    edit_types = [t for t in EDIT_TYPES if t in present] + sorted(present - set(EDIT_TYPES))
    category_ids = {name: i for i, name in enumerate(edit_types, start=1)}
    image_ids: dict[str, int] = {}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for sample in samples:
        if sample.image_b not in image_ids:
            if sample.width is not None and sample.height is not None:
                width, height = sample.width, sample.height
            else:
                width, height = load_image(resolve_dataset_path(root, sample.image_b)).size
            image_ids[sample.image_b] = len(images) + 1
            images.append(
                {"id": image_ids[sample.image_b], "file_name": sample.image_b, "width": width, "height": height}
            )
        x1, y1, x2, y2 = sample.box
        annotations.append(
            {
                "id": len(annotations) + 1,
                "image_id": image_ids[sample.image_b],
                "category_id": category_ids[sample.edit_type],
                "bbox": [x1, y1, x2 - x1, y2 - y1],
                "area": (x2 - x1) * (y2 - y1),
                "iscrowd": 0,
                "query": sample.query,
                "sample_id": sample.id,
                "pair_id": sample.pair_id,
                "split": sample.split,
                "image_a": sample.image_a,
            }
        )
    info = info or {}
    return {
        "info": {
            "description": f"{info.get('name', root.name)}: IDG targets in image B (harness data export coco)",
            "version": str(info.get("version", "")),
            "fingerprint": info.get("fingerprint"),
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": name, "supercategory": "edit"} for name, i in category_ids.items()],
    }


def export_coco(root: Path, out_file: Path, split: str | None = None, skip_invalid: bool = False) -> dict[str, Any]:
    """Write the COCO JSON of `root` (one split, or all) to `out_file`; returns it.

    A dataset with problems is refused unless `skip_invalid`, as `harness run` does.
    """
    root = Path(root)
    report = validate_dataset(root, splits={split} if split else None)
    if report.problems and not skip_invalid:
        raise DatasetInvalid(
            f"dataset {root} has {len(report.problems)} problem(s) in {report.invalid_rows} row(s); "
            f"see `harness data validate {root}`, or pass --skip-invalid to export the valid samples",
            report.problems,
        )
    coco = coco_from_samples(report.samples, root, read_dataset_info(root))
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(coco, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return coco
