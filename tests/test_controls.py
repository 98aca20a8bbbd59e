"""Controls transform samples exactly as specified, leave the manifest alone, and report drops."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from PIL import Image

from harness.cli import main
from harness.data.manifest import read_manifest
from harness.data.schema import Sample
from harness.run.controls import UnknownControl, a_blind, apply_control, parse_controls, query_shuffle


def _sample(sample_id: str, pair: str, query: str, edit: str = "remove", **kw) -> Sample:
    base = dict(split="test", image_a=f"{pair}_a.png", image_b=f"{pair}_b.png", box=(1.0, 2.0, 11.0, 12.0))
    base.update(kw)
    return Sample(id=sample_id, pair_id=pair, query=query, edit_type=edit, **base)


def test_query_shuffle_rotates_within_each_pair() -> None:
    samples = [
        _sample("p1-d0", "p1", "q0"),
        _sample("p1-d1", "p1", "q1"),
        _sample("p1-d2", "p1", "q2"),
        _sample("p2-d0", "p2", "alone"),
        _sample("p3-d0", "p3", "same"),
        _sample("p3-d1", "p3", "same"),
    ]
    original = copy.deepcopy(samples)
    shuffled, counts = query_shuffle(samples)
    assert [s.query for s in shuffled] == ["q1", "q2", "q0", "alone", "same", "same"]
    assert counts == {"shuffled": 3, "unchanged": 3}
    assert samples == original, "the input samples must not change"
    assert [s.id for s in shuffled] == [s.id for s in samples]
    assert [s.box for s in shuffled] == [s.box for s in samples]


def test_a_blind_replaces_a_by_b() -> None:
    blind, counts = a_blind([_sample("x", "p", "q")])
    assert blind[0].image_a == blind[0].image_b == "p_b.png" and counts == {"a_replaced": 1}


def test_swap_relabels_and_keeps_boxes_on_the_object(tmp_path: Path) -> None:
    Image.new("RGB", (80, 60)).save(tmp_path / "same_a.png")
    Image.new("RGB", (80, 60)).save(tmp_path / "same_b.png")
    Image.new("RGB", (160, 120)).save(tmp_path / "big_a.png")
    Image.new("RGB", (80, 60)).save(tmp_path / "big_b.png")
    samples = [
        _sample("r", "same", "gone", "remove", mask_b="m.png"),
        _sample("a", "same", "new", "add"),
        _sample("c", "same", "recoloured", "appearance"),
        _sample("s", "big", "gone", "remove", mask_b="m.png"),
    ]
    swapped, counts = apply_control("swap", samples, tmp_path)
    assert [s.edit_type for s in swapped] == ["add", "remove", "appearance", "add"]
    assert swapped[0].image_a == "same_b.png" and swapped[0].image_b == "same_a.png"
    assert swapped[0].box == samples[0].box and swapped[0].mask_b == "m.png"
    assert swapped[3].box == (2.0, 4.0, 22.0, 24.0), "box maps into the new B's (old A's) frame"
    assert swapped[3].mask_b is None and (swapped[3].width, swapped[3].height) == (160, 120)
    assert counts == {"relabelled": 3, "rescaled": 1}


def test_parse_controls() -> None:
    assert parse_controls("all") == ["query-shuffle", "a-blind", "swap"]
    assert parse_controls("swap, swap,a-blind") == ["swap", "a-blind"]
    with pytest.raises(UnknownControl, match="unknown control"):
        parse_controls("mirror")


def test_run_with_controls_records_drops_and_report_columns(tiny_dataset: Path, tmp_path: Path) -> None:
    manifest_before = (tiny_dataset / "manifest.jsonl").read_bytes()
    out = tmp_path / "res"
    args = ["run", "--models", "pixel-diff", "--dataset", str(tiny_dataset), "--output-dir", str(out)]
    assert main([*args, "--run-id", "c", "--control", "all"]) == 0
    assert (tiny_dataset / "manifest.jsonl").read_bytes() == manifest_before
    models = json.loads((out / "c" / "run.json").read_text())["models"]
    assert set(models) == {"pixel-diff", "pixel-diff@query-shuffle", "pixel-diff@a-blind", "pixel-diff@swap"}
    blind = models["pixel-diff@a-blind"]
    assert blind["control"] == "a-blind" and blind["base_model"] == "pixel-diff"
    assert blind["drop"]["acc@0.5"] == pytest.approx(0.5) and blind["drop"]["ci"][0] > 0
    assert models["pixel-diff@query-shuffle"]["drop"]["acc@0.5"] == 0.0
    assert models["pixel-diff@swap"]["relabelled"] == 6
    preds = (out / "c" / "pixel-diff@a-blind" / "predictions.jsonl").read_text().splitlines()
    assert len(preds) == len(read_manifest(tiny_dataset).samples)
    assert main(["report", str(out / "c"), "--out", str(tmp_path / "board"), "--no-galleries"]) == 0
    board = (tmp_path / "board" / "leaderboard.md").read_text()
    assert "| Uses query | Uses A |" in board
    row = next(line for line in board.splitlines() if line.startswith("| `pixel-diff` |") and "↓" in line)
    assert "| no (↓0.0" in row and "| yes (↓50.0" in row
    assert main([*args, "--run-id", "bad", "--control", "mirror"]) == 2
