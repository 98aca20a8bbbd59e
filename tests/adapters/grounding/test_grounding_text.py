"""Captions, the rule-based noun-phrase chunker and the offline BERT tokenizer."""

from __future__ import annotations

import pytest

from idg_adapters.grounding_text import bert_tokenizer, grounding_caption, noun_phrases, phrase_query


@pytest.mark.parametrize(
    ("sentence", "phrases"),
    [
        ("the red mug that was moved to the left side of the table", ["red mug", "left side", "table"]),
        ("The object that is no longer on the shelf.", ["object", "shelf"]),
        ("a small blue bicycle near the door, now green", ["small blue bicycle", "door", "green"]),
        ("which one changed?", []),
        ("", []),
    ],
)
def test_noun_phrases(sentence: str, phrases: list[str]) -> None:
    assert noun_phrases(sentence) == phrases


def test_phrase_query_falls_back_to_the_sentence() -> None:
    assert phrase_query("the cup on the table") == "cup . table"
    assert phrase_query("is it there?") == "is it there?"


def test_grounding_caption() -> None:
    assert grounding_caption("  The Red  Mug ") == "the red mug ."
    assert grounding_caption("cup . table.") == "cup . table."
    assert grounding_caption("") == " ."


def test_offline_tokenizer_uses_bert_base_uncased_ids(tmp_path) -> None:
    tokenizer = bert_tokenizer(tmp_path)  # no tokenizer files here: the packaged vocabulary
    ids = tokenizer("red mug . is it?")["input_ids"]
    assert ids[0] == 101 and ids[-1] == 102  # [CLS], [SEP] as Grounding DINO hard-codes them
    assert 1012 in ids and 1029 in ids  # "." and "?"
