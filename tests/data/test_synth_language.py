"""DiffGround-Synth 2 language: held-out phrasing, uniqueness of every query, and sentence sanity."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from harness.data.manifest import read_dataset_info, read_manifest
from harness.data.stats import compute_stats
from harness.data.synth import SynthConfig
from harness.data.synth.frames import FRAME_KINDS, FRAMES, FRAMES_BY_ID
from harness.data.synth.generator import _build, pair_rng
from harness.data.synth.held_out import (
    SLOT,
    entries_by_id,
    frames_for,
    lexicon,
    novel_frame_ids,
    reserved_count,
    word_pattern,
)
from harness.data.synth.lexicon import WORD_SETS
from harness.data.synth.pair import build_pair, scene_context
from harness.data.synth.phrasings import PHRASINGS
from harness.data.synth.query_check import picks_out_only
from harness.data.synth.query_choice import choose_worded_query
from harness.data.synth.query_templates import FAMILIES
from tests.data.conftest import V2_SMALL

SEED = 5  # conftest's synth_v2


def _samples(root, splits):
    return [s for s in read_manifest(root).samples if s.split in splits]


# --- the held-out rule ---------------------------------------------------------------------------
def test_every_synonym_set_holds_out_a_quarter_but_never_its_canonical_entry():
    for set_id, entries in lexicon().items():
        novel = [e for e in entries if e.novel]
        assert len(novel) == reserved_count(len(entries)), set_id
        assert not entries[0].novel
        assert len(entries) >= 2, f"{set_id}: a one-entry set cannot be worded in test-novel"
    novel_frames = novel_frame_ids()
    assert len(novel_frames) == len(FRAMES) // 4
    assert {FRAMES_BY_ID[f].kind for f in novel_frames} == set(FRAME_KINDS) - {"noun_phrase"}
    assert all(FRAMES_BY_ID[f].has_own_words for f in novel_frames)


def test_held_out_words_occur_in_no_other_wording():
    """Static half of the leak check: a held-out word is nowhere inside a seen entry or frame."""
    seen_texts = [e.text for entries in lexicon().values() for e in entries if not e.novel]
    seen_texts += [piece for frame in frames_for(False) for piece in SLOT.split(frame.text)]
    for set_id in WORD_SETS:
        for entry in (e for e in lexicon()[set_id] if e.novel):
            pattern = word_pattern(entry.text)
            assert not any(pattern.search(text) for text in seen_texts), entry


def _frame_regex(frame) -> re.Pattern[str]:
    pieces = re.split(r"\{np(?:_bare)?\}", frame.text)
    return re.compile("^" + ".+".join(re.escape(p) for p in pieces) + "$")


def test_no_held_out_frame_or_entry_leaks_into_train_or_val(synth_v2):
    root, _ = synth_v2
    seen = _samples(root, {"train", "val"})
    novel_words = [word_pattern(e.text) for s in WORD_SETS for e in lexicon()[s] if e.novel]
    novel_frames = [_frame_regex(FRAMES_BY_ID[f]) for f in novel_frame_ids()]
    by_id = entries_by_id()
    for s in seen:
        attrs = s.attributes
        assert attrs["phrasing"] == "seen" and attrs["frame"] not in novel_frame_ids()
        assert not any(by_id[e].novel for e in attrs["lexicon"]), (s.id, s.query)
        assert not any(p.search(s.query) for p in novel_words), s.query
        assert not any(r.match(s.query) for r in novel_frames), s.query
    train_frames = {s.attributes["frame"] for s in seen if s.split == "train"}
    assert train_frames == {f.id for f in frames_for(False)}  # every train frame is used in train


def test_test_novel_is_worded_only_with_held_out_frames_and_entries(synth_v2):
    root, _ = synth_v2
    novel = _samples(root, {"test-novel"})
    assert len(novel) == V2_SMALL["n_test_novel"]
    by_id = entries_by_id()
    for s in novel:
        assert s.attributes["phrasing"] == "novel" and s.attributes["frame"] in novel_frame_ids()
        assert s.attributes["lexicon"] and all(by_id[e].novel for e in s.attributes["lexicon"]), s.query
    stats = compute_stats(read_manifest(root).samples, read_dataset_info(root))["phrasing"]
    assert stats["overlap"]["frames"] == [] and stats["overlap"]["lexicon"] == []
    assert stats["per_split"]["test-novel"]["frames_used"] == stats["per_split"]["test-novel"]["frames_available"]
    assert stats["per_split"]["train"]["frames_used"] == len(frames_for(False))
    assert {s.attributes["template_family"] for s in novel} == set(FAMILIES) - {"category"}


# --- uniqueness -----------------------------------------------------------------------------------
def test_every_query_picks_out_only_its_target(synth_v2):
    """Rebuild every pair and run the checker on every accepted query against all its differences."""
    root, _ = synth_v2
    config = SynthConfig(seed=SEED, **V2_SMALL)
    by_pair: dict[str, list] = {}
    for s in read_manifest(root).samples:
        by_pair.setdefault(s.pair_id, []).append(s)
    families, frames = Counter(), Counter()
    for pair_id, samples in by_pair.items():
        split, index = pair_id.rsplit("-", 1)
        pair = _build(SEED, split, int(index), config)
        ctx = scene_context(pair, config.allow_category_names)
        for s in samples:
            k = int(s.id.rsplit("-d", 1)[1])
            query = pair.differences[k].query.candidate
            assert query.text == s.query
            assert picks_out_only(query, ctx.differences[k], ctx), s.query
            families[query.family] += 1
            frames[query.frame] += 1
    assert set(families) == set(FAMILIES) - {"category"}
    assert set(frames) == {f.id for f in FRAMES}


def test_category_family_is_checked_too():
    config = SynthConfig(seed=2, min_size=256, max_size=288, allow_category_names=True)
    families = Counter()
    for phrasing in ("seen", "novel"):
        for index in range(40):
            pair = build_pair(pair_rng(2, "train", index), config, phrasing=phrasing)
            ctx = scene_context(pair, True)
            for k, difference in enumerate(pair.differences):
                query = difference.query.candidate
                if query is None:
                    continue
                assert picks_out_only(query, ctx.differences[k], ctx), query.text
                assert query.phrasing == phrasing
                families[query.family] += 1
    assert families["category"] > 0


def test_ambiguous_meaning_is_rewritten_and_worded_from_the_next():
    from harness.data.synth.meanings import MEANINGS
    from tests.data.test_synth_queries import _colour_change, _ctx

    target = _colour_change(0, (20, 20, 60, 60))
    ctx = _ctx(target, _colour_change(1, (300, 300, 340, 340)))
    only = {k: MEANINGS[k] for k in ("change.recoloured", "position.leftmost")}
    outcomes = [choose_worded_query(target, ctx, np.random.default_rng(seed), meanings=only) for seed in range(8)]
    assert all(o.candidate.template_id == "position.leftmost" for o in outcomes)
    assert 0 < sum(o.rewritten for o in outcomes) <= 8
    with pytest.raises(ValueError, match="phrasing"):
        choose_worded_query(target, ctx, np.random.default_rng(0), phrasing="other")


# --- sentence sanity ------------------------------------------------------------------------------
DOUBLED = re.compile(r"\b(\w+)\W+\1\b", re.IGNORECASE)
A_BEFORE_VOWEL = re.compile(r"\ba [aeiou]", re.IGNORECASE)


def _check_sentence(query: str, frame_kind: str) -> None:
    assert query == query.strip() and "  " not in query, query
    assert not re.search(r"[{}\[\]]", query), query
    assert not DOUBLED.search(query), query
    assert not A_BEFORE_VOWEL.search(query), query
    assert not re.search(r"\s[,.?]|,[,.?]|[,.?]\S", query.replace("I'm", "Im")), query
    if frame_kind == "noun_phrase":
        assert query[0].islower() and query[-1] not in ".?!", query
    else:
        assert query[0].isupper() and query[-1] in ".?", query
        for sentence in re.split(r"(?<=[.?]) ", query):
            assert sentence[0].isupper() and sentence[-1] in ".?", query


def test_every_query_is_a_clean_sentence_or_noun_phrase(synth_v2):
    root, _ = synth_v2
    for s in read_manifest(root).samples:
        _check_sentence(s.query, s.attributes["frame_kind"])
        assert s.attributes["frame_kind"] == FRAMES_BY_ID[s.attributes["frame"]].kind
        assert s.attributes["query_words"] == len(s.query.split())
        assert 1 <= s.attributes["cues"] <= 3


def test_sanity_check_rejects_broken_text():
    for bad, kind in [
        ("the the leftmost change", "noun_phrase"),
        ("Box a orange object.", "imperative"),
        ("Find the {noun}.", "imperative"),
        ("box the leftmost change.", "imperative"),
        ("The leftmost change", "noun_phrase"),
        ("Look here. find it.", "two_sentence"),
    ]:
        with pytest.raises(AssertionError):
            _check_sentence(bad, kind)


def test_language_varies(synth_v2):
    root, _ = synth_v2
    train = _samples(root, {"train"})
    assert len({s.query for s in train}) >= 0.95 * len(train)
    entries = {e for s in train for e in s.attributes["lexicon"]}
    # Synonyms beyond the canonical word are used for colours and for edit verbs.
    assert any(e.startswith("colour.") and not e.endswith("#0") for e in entries)
    assert len({e for e in entries if e.startswith("vp.")}) >= 10
    assert len({s.attributes["frame_kind"] for s in train}) == len(FRAME_KINDS)
    assert Counter(s.attributes["cues"] for s in train)[2] > 0
    lengths = [s.attributes["query_words"] for s in train]
    assert min(lengths) <= 4 and max(lengths) >= 15


def test_every_pattern_set_is_used_by_a_meaning():
    from harness.data.synth.meanings import MEANINGS

    used = {f"np.{m}" for m in MEANINGS}
    prefixes = ("np.edit.region", "np.edit.colour_region", "np.position.edit_extreme.", "np.category.")
    for set_id in PHRASINGS:
        assert set_id in used or set_id.startswith(prefixes), set_id
