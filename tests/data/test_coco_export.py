"""COCO export: pycocotools loads it, and import -> export gives back the same boxes for every format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO

from harness.cli import main
from harness.data.importers import import_dataset
from harness.data.manifest import read_manifest
from tests.data.import_sources import write_coco_pairs, write_csv, write_mig_bench


def _write_source(format_name: str, tmp_path: Path) -> tuple[Path, list]:
    if format_name == "mig-bench":
        return write_mig_bench(tmp_path / "src")
    if format_name == "csv":
        return write_csv(tmp_path / "src", tmp_path / "elsewhere")
    return write_coco_pairs(tmp_path / "src")


@pytest.mark.parametrize("format_name", ["mig-bench", "csv", "coco-pairs"])
def test_import_export_round_trip(format_name: str, tmp_path: Path, capsys) -> None:
    source, expected = _write_source(format_name, tmp_path)
    out = tmp_path / "ds"
    import_dataset(format_name, source, out)
    assert main(["data", "export", "coco", str(out)]) == 0
    assert "target boxes" in capsys.readouterr().out
    coco = COCO(str(out / "coco.json"))
    annotations = coco.loadAnns(coco.getAnnIds())
    assert len(annotations) == len(expected)
    for annotation, box in zip(annotations, expected, strict=True):
        x, y, w, h = annotation["bbox"]
        np.testing.assert_allclose([x, y, x + w, y + h], box, atol=1e-6)
        image = coco.loadImgs(annotation["image_id"])[0]
        assert (out / image["file_name"]).is_file()
        assert annotation["area"] == pytest.approx(w * h)
    samples = read_manifest(out).samples
    assert [a["sample_id"] for a in annotations] == [s.id for s in samples]
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert [names[a["category_id"]] for a in annotations] == [s.edit_type for s in samples]
    assert [a["query"] for a in annotations] == [s.query for s in samples]


def test_export_one_split_to_a_file(tmp_path: Path) -> None:
    source, _ = write_csv(tmp_path / "src", tmp_path / "elsewhere")
    out = tmp_path / "ds"
    import_dataset("csv", source, out)
    target = tmp_path / "train.json"
    assert main(["data", "export", "coco", str(out), "--split", "train", "--out", str(target)]) == 0
    data = json.loads(target.read_text())
    assert len(data["annotations"]) == 1 and data["annotations"][0]["split"] == "train"
    assert data["categories"] == [{"id": 1, "name": "remove", "supercategory": "edit"}]


def test_export_refuses_an_invalid_dataset(tiny_dataset: Path, tmp_path: Path, capsys) -> None:
    with (tiny_dataset / "manifest.jsonl").open("a") as fh:
        fh.write("{broken\n")
    assert main(["data", "export", "coco", str(tiny_dataset)]) == 2
    assert "--skip-invalid" in capsys.readouterr().err
    assert main(["data", "export", "coco", str(tiny_dataset), "--skip-invalid"]) == 0
    assert len(json.loads((tiny_dataset / "coco.json").read_text())["annotations"]) == 6
