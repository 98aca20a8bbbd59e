"""Query templates and the uniqueness check, on hand-made difference descriptors and generated data."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from harness.data.manifest import read_manifest
from harness.data.synth import SynthConfig, generate_dataset
from harness.data.synth.descriptors import DifferenceDescriptor, Landmark, ObjectAttrs, SceneContext, unique_phrase
from harness.data.synth.query_check import choose_query, picks_out_only
from harness.data.synth.query_templates import FAMILIES, TEMPLATES
from harness.data.synth.shapes import SHAPES


def _colour_change(key: int, box, before="green", after="purple", shape="disc") -> DifferenceDescriptor:
    return DifferenceDescriptor(
        key, "appearance", "colour", ObjectAttrs(shape, before, "flat", "medium"),
        ObjectAttrs(shape, after, "flat", "medium"), box,
    )  # fmt: skip


def _removal(key: int, box, shape="star") -> DifferenceDescriptor:
    return DifferenceDescriptor(key, "remove", None, ObjectAttrs(shape, "red", "striped", "small"), None, box)


def _ctx(*differences, landmarks=(), allow=False) -> SceneContext:
    return SceneContext(400, 400, tuple(differences), tuple(landmarks), allow)


def test_at_least_thirty_templates_in_every_family():
    non_category = [t for t in TEMPLATES.values() if t.family != "category"]
    assert len(non_category) >= 30
    assert {t.family for t in TEMPLATES.values()} == set(FAMILIES)


def test_colour_template_is_unique_or_ambiguous_as_expected():
    target = _colour_change(0, (20, 20, 60, 60))
    build = TEMPLATES["change.colour_from_to"].build
    alone = _ctx(target, _removal(1, (300, 300, 340, 340)))
    candidate = build(target, alone, np.random.default_rng(0))
    assert candidate.text == "the piece that went from green to purple"
    assert picks_out_only(candidate, target, alone)
    twin = _ctx(target, _colour_change(1, (300, 300, 340, 340)))
    assert not picks_out_only(build(target, twin, np.random.default_rng(0)), target, twin)


def test_near_tie_in_a_ranking_is_rejected():
    target = _removal(0, (20, 100, 60, 140))
    close = _removal(1, (25, 300, 65, 340))  # 5 px further right: inside the margin
    ctx = _ctx(target, close)
    assert TEMPLATES["position.leftmost"].build(target, ctx, np.random.default_rng(0)) is None
    far = _removal(1, (200, 300, 240, 340))
    candidate = TEMPLATES["position.leftmost"].build(target, _ctx(target, far), np.random.default_rng(0))
    assert candidate is not None and picks_out_only(candidate, target, _ctx(target, far))


def test_ambiguous_first_choice_is_rewritten():
    target = _colour_change(0, (20, 20, 60, 60))
    ctx = _ctx(target, _colour_change(1, (300, 300, 340, 340)))
    only = {k: TEMPLATES[k] for k in ("change.colour_from_to", "position.leftmost")}
    rewritten = 0
    for seed in range(8):
        choice = choose_query(target, ctx, np.random.default_rng(seed), templates=only)
        assert choice.candidate.template_id == "position.leftmost"
        rewritten += choice.rewritten
    # Whenever the ambiguous colour template was drawn first, the choice counts as rewritten.
    assert 0 < rewritten <= 8


def test_difference_with_no_unambiguous_template_is_dropped():
    a = _colour_change(0, (100, 100, 140, 140))
    b = _colour_change(1, (102, 102, 142, 142))
    only = {"change.colour_from_to": TEMPLATES["change.colour_from_to"]}
    choice = choose_query(a, _ctx(a, b), np.random.default_rng(0), templates=only)
    assert choice.dropped and choice.candidate is None


def test_landmark_phrase_is_unique_and_never_names_the_target_category():
    disc = ObjectAttrs("disc", "red", "striped", "large")
    other_disc = ObjectAttrs("disc", "red", "flat", "small")
    assert unique_phrase(disc, [disc, other_disc]) == "large red disc"
    assert unique_phrase(disc, [disc, disc]) is None
    target = _removal(0, (300, 180, 340, 220), shape="disc")
    landmark = Landmark(disc, (100, 180, 140, 220), "large red disc")
    ctx = _ctx(target, _removal(1, (20, 20, 50, 50), shape="ring"), landmarks=[landmark])
    assert TEMPLATES["relation.any"].build(target, ctx, np.random.default_rng(0)) is None
    allowed = _ctx(target, _removal(1, (20, 20, 50, 50)), landmarks=[landmark], allow=True)
    candidate = TEMPLATES["relation.any"].build(target, allowed, np.random.default_rng(0))
    assert candidate.text == "the change right of the large red disc"


def _category_mentions(samples) -> int:
    hits = 0
    for s in samples:
        names = {st["shape"] for st in (s.attributes["target_before"], s.attributes["target_after"]) if st}
        hits += any(re.search(rf"\b{n}s?\b", s.query) for n in names)
    return hits


def test_default_queries_avoid_the_target_category(synth_medium):
    root, _ = synth_medium
    samples = read_manifest(root).samples
    assert _category_mentions(samples) == 0
    assert all(s.attributes["template_family"] != "category" for s in samples)


def test_category_names_appear_when_allowed(tmp_path):
    config = SynthConfig(
        seed=4, n_train=60, n_val=0, n_test=0, n_test_novel=0, n_test_robust=0, min_size=256, max_size=320,
        allow_category_names=True,
    )  # fmt: skip
    generate_dataset(tmp_path, config)
    samples = read_manifest(tmp_path).samples
    assert _category_mentions(samples) > 0
    assert any(s.attributes["template_family"] == "category" for s in samples)
    assert any(re.search(rf"\b{shape}\b", s.query) for s in samples for shape in SHAPES)


def test_many_templates_and_all_families_used(synth_medium):
    root, report = synth_medium
    samples = read_manifest(root).samples
    used = Counter(s.attributes["template"] for s in samples)
    assert len(used) >= 28
    assert {s.attributes["template_family"] for s in samples} == set(FAMILIES) - {"category"}
    assert report.templates_used == dict(used)
    assert report.rewritten > 0  # the check did reject some drawn queries


def test_queries_are_unique_within_a_pair(synth_medium):
    root, _ = synth_medium
    by_pair: dict[str, list[str]] = {}
    for s in read_manifest(root).samples:
        by_pair.setdefault(s.pair_id, []).append(s.query)
    assert all(len(qs) == len(set(qs)) for qs in by_pair.values())
