"""Choosing and wording one query per difference (version 2), checked to pick out only its target.

As in version 1 (query_check.py): families in a seeded random order, meanings shuffled within
each; a meaning that also fits another difference is *rewritten* (the next one is tried) and a
difference no meaning singles out is *dropped*. The check runs on the meaning's predicate, which
every wording of it shares, so the accepted text is unambiguous whichever frame and words it got.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from harness.data.synth import category_meanings  # noqa: F401  (registers the category family in MEANINGS)
from harness.data.synth.descriptors import DifferenceDescriptor, SceneContext
from harness.data.synth.held_out import lexicon
from harness.data.synth.lexicon import attribute_set
from harness.data.synth.meanings import MEANINGS, Meaning, MeaningTemplate, Predicate
from harness.data.synth.query_check import QueryChoice, picks_out_only
from harness.data.synth.query_templates import FAMILIES
from harness.data.synth.realize import word_query

PHRASINGS: tuple[str, ...] = ("seen", "novel")
# Wordings drawn per paraphrase asked for, before giving up on a meaning with few distinct wordings.
PARAPHRASE_DRAWS = 4


@dataclass(frozen=True)
class WordedQuery:
    """An accepted query with what it was built from (all of it goes into the sample's attributes)."""

    template_id: str
    family: str
    text: str
    matches: Predicate
    frame: str
    frame_kind: str
    entries: tuple[str, ...]
    phrasing: str
    cues: int
    paraphrases: tuple[str, ...] = ()
    """Other wordings of the same meaning (seen inventory), for training only: see `paraphrase`."""

    def attributes(self) -> dict:
        extra = {"paraphrases": list(self.paraphrases)} if self.paraphrases else {}
        return {
            "template": self.template_id,
            "template_family": self.family,
            "frame": self.frame,
            "frame_kind": self.frame_kind,
            "lexicon": sorted(set(self.entries)),
            "phrasing": self.phrasing,
            "query_words": len(self.text.split()),
            "cues": self.cues,
        } | extra


@lru_cache(maxsize=64)
def _category_words(shape: str) -> re.Pattern[str]:
    """Every wording of a shape category, as whole words (plural allowed)."""
    words = sorted((e.text for e in lexicon()[attribute_set("shape", shape)]), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in words) + r")s?(?![\w-])", re.IGNORECASE)


def names_category(text: str, target: DifferenceDescriptor) -> bool:
    """True when `text` names the target's shape in any of its wordings."""
    return any(_category_words(shape).search(text) for shape in target.category_names)


def paraphrase(
    found: Meaning,
    text: str,
    target: DifferenceDescriptor,
    ctx: SceneContext,
    rng: np.random.Generator,
    count: int,
) -> tuple[str, ...]:
    """Up to `count` other wordings of `found` (seen frames, patterns and words), none equal to `text`.

    Every wording of a meaning shares its predicate, so each one singles out `target` as `text`
    does; those that name the target's category where the scene forbids it are skipped. Fewer come
    back when the seen inventory has fewer distinct wordings of this meaning."""
    texts: list[str] = []
    for _ in range(PARAPHRASE_DRAWS * count):
        if len(texts) == count:
            break
        wording = word_query(found.pattern_set, found.params, rng, False, len(ctx.differences))
        if wording is None or wording.text == text or wording.text in texts:
            continue
        if not ctx.allow_category_names and names_category(wording.text, target):
            continue
        texts.append(wording.text)
    return tuple(texts)


def choose_worded_query(
    target: DifferenceDescriptor,
    ctx: SceneContext,
    rng: np.random.Generator,
    phrasing: str = "seen",
    meanings: dict[str, MeaningTemplate] | None = None,
    paraphrase_rng: np.random.Generator | None = None,
    paraphrases: int = 0,
) -> QueryChoice:
    """The first meaning that singles out `target` and can be worded in `phrasing`, worded.

    With `paraphrases` > 0, the accepted query also carries that many other wordings of its meaning,
    drawn from `paraphrase_rng` alone, so `rng`'s draws (and so the scene and every query) are the
    same with or without them."""
    if phrasing not in PHRASINGS:
        raise ValueError(f"phrasing must be one of {PHRASINGS}, got {phrasing!r}")
    meanings = MEANINGS if meanings is None else meanings
    families = [f for f in FAMILIES if f != "category" or ctx.allow_category_names]
    rejected_any = False
    for family_index in rng.permutation(len(families)):
        family = families[int(family_index)]
        members = [m for m in meanings.values() if m.family == family]
        for member_index in rng.permutation(len(members)):
            found: Meaning | None = members[int(member_index)].build(target, ctx, rng)
            if found is None:
                continue
            if not picks_out_only(found, target, ctx):
                rejected_any = True
                continue
            wording = word_query(found.pattern_set, found.params, rng, phrasing == "novel", len(ctx.differences))
            if wording is None:
                continue
            if not ctx.allow_category_names and names_category(wording.text, target):
                continue
            query = WordedQuery(
                found.template_id, found.family, wording.text, found.matches, wording.frame.id,
                wording.frame.kind, wording.entries, phrasing, found.cues,
            )  # fmt: skip
            if paraphrases > 0:
                if paraphrase_rng is None:
                    raise ValueError("paraphrases > 0 needs a paraphrase_rng of its own")
                query = replace(
                    query, paraphrases=paraphrase(found, wording.text, target, ctx, paraphrase_rng, paraphrases)
                )
            return QueryChoice(query, rewritten=rejected_any)
    return QueryChoice(None, rewritten=False)
