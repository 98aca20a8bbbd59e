"""bench/novel_wording_probe.py's variants of test-novel: each holds out exactly the parts of the
wording (frame, phrase pattern, words) it names, and every variant words the same pairs."""

from __future__ import annotations

import json

import pytest

from harness.data.synth import realize
from harness.data.synth.frames import FRAMES
from harness.data.synth.held_out import entries_by_id, frame_is_novel
from harness.data.synth.lexicon import WORD_SETS
from tests.script_module import BENCH, load_script


def _probe():
    return load_script("novel_wording_probe", BENCH)


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    probe = _probe()
    out = {}
    for name in probe.VARIANTS:
        folder = tmp_path_factory.mktemp(name)
        probe.generate_variant(folder, name, queries=12, seed=3)
        out[name] = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    return out


def test_each_variant_holds_out_what_it_names(variants: dict[str, list[dict]]) -> None:
    probe = _probe()
    frames = {f.id: f for f in FRAMES}
    entries = entries_by_id()
    for name, rows in variants.items():
        frame, pattern, words = probe.VARIANTS[name]
        assert rows, name
        for row in rows:
            attributes = row["attributes"]
            used_frame = frames[attributes["frame"]]
            if used_frame.has_own_words:  # the bare noun-phrase frames are never held out
                assert frame_is_novel(used_frame) == frame, (name, attributes["frame"])
            for entry_id in attributes["lexicon"]:
                entry = entries[entry_id]
                held_out = words if entry.set_id in WORD_SETS else pattern
                assert entry.novel == held_out, (name, entry_id)


def test_every_variant_words_the_same_pairs(variants: dict[str, list[dict]]) -> None:
    boxes = {name: [(row["pair_id"], row["box"]) for row in rows] for name, rows in variants.items()}
    first = boxes["seen"]
    assert all(b == first for b in boxes.values())


def test_the_generator_is_restored_afterwards(variants: dict[str, list[dict]]) -> None:
    from harness.data.synth.held_out import frames_for

    assert realize.frames_for is frames_for
    assert realize.usable_entries.__module__ == "harness.data.synth.realize"
