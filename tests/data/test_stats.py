"""Dataset statistics on a hand-made dataset whose numbers are known."""

from __future__ import annotations

import json

from rich.console import Console

from harness.data.schema import Sample
from harness.data.stats import compute_stats, render_stats


def _sample(i: int, split: str, edit: str, query: str, box) -> Sample:
    return Sample(f"s{i}", f"p{i // 2}", split, "a.png", "b.png", query, box, edit)


SAMPLES = [
    _sample(0, "train", "remove", "the thing that was taken away", (0, 0, 10, 10)),  # 6 words, area 100
    _sample(1, "train", "add", "the object that appeared", (0, 0, 40, 40)),  # 4 words, area 1600
    _sample(2, "test", "remove", "the leftmost change", (0, 0, 100, 100)),  # 3 words, area 10000
    _sample(3, "test", "appearance", "the piece that went from green to purple", (0, 0, 20, 5)),  # 8, area 100
]


def test_counts_lengths_and_boxes():
    stats = compute_stats(SAMPLES, {"name": "toy", "query_check": {"rewritten": 3, "dropped": 1}})
    assert stats["n_samples"] == 4 and stats["n_pairs"] == 2
    assert stats["counts"]["train"] == {"add": 1, "appearance": 0, "remove": 1, "total": 2}
    assert stats["counts"]["test"] == {"add": 0, "appearance": 1, "remove": 1, "total": 2}
    words = stats["query_words"]
    assert (words["min"], words["mean"], words["max"]) == (3, 5.25, 8)
    assert words["histogram"]["1-3"] == 1 and words["histogram"]["4-6"] == 2 and words["histogram"]["7-9"] == 1
    assert stats["box_size"]["coco"] == {"small": 2, "medium": 1, "large": 1}
    assert stats["box_size"]["area_quantiles"]["p0"] == 100 and stats["box_size"]["area_quantiles"]["p100"] == 10000
    assert stats["box_size"]["area_quantiles"]["p50"] == 850
    assert stats["query_check"] == {"rewritten": 3, "dropped": 1}
    json.dumps(stats)


def test_works_without_dataset_info_and_renders():
    stats = compute_stats(SAMPLES, {})
    assert stats["query_check"] == {"rewritten": None, "dropped": None}
    console = Console(record=True, width=120)
    render_stats(stats, console)
    text = console.export_text()
    assert "remove" in text and "COCO small" in text


def test_stats_of_a_generated_dataset(synth_tiny):
    from harness.data.manifest import read_dataset_info, read_manifest

    root, report = synth_tiny
    stats = compute_stats(read_manifest(root).samples, read_dataset_info(root))
    assert stats["n_samples"] == report.total_queries
    assert stats["query_check"]["rewritten"] == report.rewritten
    assert sum(row["total"] for row in stats["counts"].values()) == report.total_queries


def _worded(i: int, split: str, frame: str, lexicon: list[str], phrasing: str) -> Sample:
    attrs = {"frame": frame, "lexicon": lexicon, "phrasing": phrasing}
    return Sample(f"w{i}", f"q{i}", split, "a.png", "b.png", "the leftmost change", (0, 0, 10, 10), "add",
                  attributes=attrs)  # fmt: skip


def test_phrasing_coverage_and_train_test_novel_overlap():
    info = {"language": {"inventory": {"frames": {"seen": 4, "novel": 2}, "lexicon": {"seen": 10, "novel": 3}}}}
    clean = [
        _worded(0, "train", "imp.box", ["colour.red#0", "noun.change#0"], "seen"),
        _worded(1, "train", "q.where", ["colour.red#1"], "seen"),
        _worded(2, "test-novel", "imp.draw", ["colour.red#3"], "novel"),
    ]
    stats = compute_stats(clean, info)["phrasing"]
    assert stats["per_split"]["train"] == {
        "phrasing": {"seen": 2}, "frames_used": 2, "frames_available": 4, "lexicon_used": 3, "lexicon_available": 10,
    }  # fmt: skip
    assert stats["per_split"]["test-novel"]["frames_available"] == 2
    assert stats["overlap"] == {"between": ["train", "test-novel"], "frames": [], "lexicon": []}
    leaky = clean + [_worded(3, "test-novel", "imp.box", ["colour.red#1"], "novel")]
    overlap = compute_stats(leaky, info)["phrasing"]["overlap"]
    assert overlap["frames"] == ["imp.box"] and overlap["lexicon"] == ["colour.red#1"]
    console = Console(record=True, width=120)
    render_stats(compute_stats(leaky, info), console)
    assert "leaked" in console.export_text()
    assert compute_stats(SAMPLES, {})["phrasing"] is None
