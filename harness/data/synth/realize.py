"""Wording a query meaning: a sentence frame, a phrase pattern, and a word for every slot.

Seen phrasing (train, val, test, test-robust) draws only entries and frames that are not held out;
novel phrasing (test-novel) draws only held-out ones (held_out.py). Every entry used is recorded,
so each query carries the ids of its frame and lexicon entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from harness.data.synth.descriptors import ObjectAttrs
from harness.data.synth.frames import ACCEPTS, Frame
from harness.data.synth.held_out import Entry, frames_for, lexicon
from harness.data.synth.lexicon import ALIASES, attribute_set
from harness.data.synth.phrasings import TWO_ONLY, pattern_kind

SLOT = re.compile(r"\{([^{}]+)\}")
# "a" before a vowel sound: every word in the lexicon that starts with a vowel letter takes "an".
A_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")


@dataclass(frozen=True)
class LandmarkRef:
    """A slot filled with a landmark's unique description, worded attribute by attribute."""

    attrs: ObjectAttrs
    order: tuple[str, ...]


Param = str | LandmarkRef


@dataclass(frozen=True)
class Wording:
    text: str
    frame: Frame
    entries: tuple[str, ...]  # entry ids in the order drawn (pattern first)


@dataclass
class _Draw:
    rng: np.random.Generator
    novel: bool
    used: list[str] = field(default_factory=list)

    def pick(self, set_id: str) -> Entry:
        options = usable_entries(set_id, self.novel)
        entry = options[int(self.rng.integers(len(options)))] if len(options) > 1 else options[0]
        self.used.append(entry.id)
        return entry

    def word(self, slot: str, params: dict[str, Param]) -> str:
        name, plural = (slot[:-2], True) if slot.endswith("+s") else (slot, False)
        value = params.get(name, ALIASES.get(name, name))
        if isinstance(value, LandmarkRef):
            text = " ".join(self.pick(attribute_set(a, getattr(value.attrs, a))).text for a in value.order)
        else:
            text = self.pick(value).text
        return text + "s" if plural else text


@lru_cache(maxsize=4096)
def usable_entries(set_id: str, novel: bool) -> tuple[Entry, ...]:
    return tuple(e for e in lexicon()[set_id] if e.novel == novel)


def _slot_sets(pattern: str, params: dict[str, Param]) -> list[str]:
    sets = []
    for slot in SLOT.findall(pattern):
        name = slot.removesuffix("+s")
        value = params.get(name, ALIASES.get(name, name))
        if isinstance(value, LandmarkRef):
            sets.extend(attribute_set(a, getattr(value.attrs, a)) for a in value.order)
        else:
            sets.append(value)
    return sets


def _patterns(set_id: str, params: dict[str, Param], novel: bool, n_differences: int) -> list[Entry]:
    """The set's patterns usable in this phrasing: every slot has a word, the difference count fits."""
    out = []
    for entry in usable_entries(set_id, novel):
        if entry.two_only and n_differences != 2:
            continue
        if all(usable_entries(s, novel) for s in _slot_sets(entry.text, params)):
            out.append(entry)
    return out


def word_query(
    pattern_set: str,
    params: dict[str, Param],
    rng: np.random.Generator,
    novel: bool,
    n_differences: int,
) -> Wording | None:
    """A frame and a pattern drawn at random (frames tried in random order until one fits), or None."""
    patterns = _patterns(pattern_set, params, novel, n_differences)
    if not patterns:
        return None
    frames = frames_for(novel)
    for frame_index in rng.permutation(len(frames)):
        frame = frames[int(frame_index)]
        fitting = [p for p in patterns if pattern_kind(p.text) in ACCEPTS[frame.accepts]]
        if not fitting:
            continue
        draw = _Draw(rng, novel)
        pattern = fitting[int(rng.integers(len(fitting)))] if len(fitting) > 1 else fitting[0]
        draw.used.append(pattern.id)
        phrase = SLOT.sub(lambda m, d=draw: d.word(m.group(1), params), pattern.text.removeprefix(TWO_ONLY))
        if frame.bare:
            text = frame.text.replace("{np_bare}", phrase.removeprefix("the "))
        else:
            text = frame.text.replace("{np}", phrase)
        return Wording(A_BEFORE_VOWEL.sub(r"\1n ", text), frame, tuple(draw.used))
    return None
