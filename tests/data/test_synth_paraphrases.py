"""Paraphrases of train queries (`harness data synth --train-paraphrases K`): the same meaning in
other seen wordings, drawn from a stream of their own, so the dataset is otherwise unchanged."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from harness.data.manifest import read_dataset_info, read_manifest
from harness.data.synth import SynthConfig, generate_dataset
from harness.data.synth.frames import FRAMES_BY_ID
from harness.data.synth.held_out import lexicon, novel_frame_ids, word_pattern
from harness.data.synth.lexicon import WORD_SETS, attribute_set
from harness.data.synth.meanings import MEANINGS
from harness.data.synth.query_choice import choose_worded_query, names_category
from tests.data.test_synth_language import DOUBLED, _frame_regex
from tests.data.test_synth_queries import _colour_change, _ctx, _removal

SMALL = SynthConfig(
    seed=11, n_train=60, n_val=12, n_test=12, n_test_novel=12, n_test_robust=12, min_size=256, max_size=288
)
K = 4


@pytest.fixture(scope="module")
def plain_and_paraphrased(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("paraphrases")
    generate_dataset(base / "plain", replace(SMALL, robust_train_fraction=0.25))
    generate_dataset(base / "para", replace(SMALL, robust_train_fraction=0.25, train_paraphrases=K))
    return base / "plain", base / "para"


def test_paraphrases_change_nothing_else(plain_and_paraphrased) -> None:
    plain, para = plain_and_paraphrased
    a, b = read_manifest(plain).samples, read_manifest(para).samples
    assert [s.id for s in a] == [s.id for s in b]
    for x, y in zip(a, b, strict=True):
        attributes = dict(y.attributes)
        extra = attributes.pop("paraphrases", None)
        assert (extra is not None) == (y.split == "train"), y.id
        assert x == replace(y, attributes=attributes), x.id  # same query, box, files and other attributes
    for folder in ("images", "masks"):
        names = sorted(p.name for p in (plain / folder).iterdir())
        assert names == sorted(p.name for p in (para / folder).iterdir())
        assert all((plain / folder / n).read_bytes() == (para / folder / n).read_bytes() for n in names)
    plain_config = read_dataset_info(plain)["generator"]["config"]
    para_config = read_dataset_info(para)["generator"]["config"]
    assert "train_paraphrases" not in plain_config  # datasets made without them keep their dataset.json
    assert para_config == plain_config | {"train_paraphrases": K}


def test_each_train_query_gets_distinct_seen_wordings(plain_and_paraphrased) -> None:
    _, para = plain_and_paraphrased
    novel_words = [word_pattern(e.text) for s in WORD_SETS for e in lexicon()[s] if e.novel]
    novel_frames = [_frame_regex(FRAMES_BY_ID[f]) for f in novel_frame_ids()]
    counts = []
    for sample in (s for s in read_manifest(para).samples if s.split == "train"):
        texts = sample.attributes["paraphrases"]
        counts.append(len(texts))
        assert len(set(texts)) == len(texts) and sample.query not in texts, sample.id
        for text in texts:
            assert text == text.strip() and "  " not in text and "{" not in text, text
            assert not DOUBLED.search(text), text
            assert not any(p.search(text) for p in novel_words), (sample.id, text)
            assert not any(r.match(text) for r in novel_frames), (sample.id, text)
    assert np.mean(counts) > K - 0.5  # most meanings have K other wordings in the seen inventory
    assert min(counts) >= 1


def test_a_paraphrase_says_what_its_query_says() -> None:
    """A colour change to purple, picked out as "changed to purple": every wording names purple (in
    some seen synonym) and none names the target's category, which the scene does not allow."""
    target = _colour_change(0, (20, 20, 60, 60), after="purple")
    ctx = _ctx(target, _removal(1, (300, 300, 340, 340)))
    only = {"change.colour_to": MEANINGS["change.colour_to"]}
    purple = [word_pattern(e.text) for e in lexicon()[attribute_set("colour", "purple")] if not e.novel]
    for seed in range(6):
        choice = choose_worded_query(
            target, ctx, np.random.default_rng(seed), meanings=only,
            paraphrase_rng=np.random.default_rng(100 + seed), paraphrases=6,
        )  # fmt: skip
        query = choice.candidate
        assert query.paraphrases and query.text not in query.paraphrases
        assert json.dumps(query.attributes()["paraphrases"]) == json.dumps(list(query.paraphrases))
        for text in query.paraphrases:
            assert not names_category(text, target), text
            assert any(p.search(text) for p in purple), (query.text, text)
        assert any(p.search(query.text) for p in purple), query.text


def test_paraphrases_do_not_move_the_query_draws() -> None:
    target = _colour_change(0, (20, 20, 60, 60))
    ctx = _ctx(target, _removal(1, (300, 300, 340, 340)))
    for seed in range(4):
        rng_plain, rng_para = np.random.default_rng(seed), np.random.default_rng(seed)
        plain = choose_worded_query(target, ctx, rng_plain).candidate
        para = choose_worded_query(
            target, ctx, rng_para, paraphrase_rng=np.random.default_rng(9), paraphrases=3
        ).candidate
        assert para.attributes() == plain.attributes() | {"paraphrases": list(para.paraphrases)}
        assert para.text == plain.text
        assert rng_plain.random() == rng_para.random()  # the main stream is where it would have been
        assert "paraphrases" not in plain.attributes()


def test_bad_paraphrase_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="train_paraphrases must be >= 0"):
        SynthConfig(train_paraphrases=-1)
    with pytest.raises(ValueError, match="version 2"):
        SynthConfig(version=1, train_paraphrases=2)
    target = _colour_change(0, (20, 20, 60, 60))
    with pytest.raises(ValueError, match="paraphrase_rng"):
        choose_worded_query(target, _ctx(target), np.random.default_rng(0), paraphrases=2)
