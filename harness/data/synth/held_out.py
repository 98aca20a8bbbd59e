"""Which frames and lexicon entries are held out for test-novel, chosen by a fixed rule.

Rule, per synonym set (word sets in lexicon.py, phrase-pattern sets in phrasings.py): a set of n
entries holds out max(1, n // 4) of them when n >= 2 (none when n == 1). The canonical first entry
is never held out, so train always sees the plain word; comparatives among exactly two
differences ("[2]" patterns) are never held out either, because they fit few pairs, nor are loose
patterns ("in the left half, the ..."), which only the plain noun-phrase frames take and those
are never held out (below), so test-novel could not use them. A word that
also occurs inside another entry, pattern or frame (as a whole word, optionally plural) cannot be
held out, since train would then see it there. Among the eligible entries the held-out ones are
the first by sha256 of "<set id>|<text>", so the choice is fixed and not hand-picked.
Frames: max(1, n // 4) of all n frames, taken from the frames with words of their own (the plain
noun-phrase frames are just the phrase and stay seen): first one of each sentence kind (question,
imperative, request, two-sentence), then more in order of sha256 of the frame id.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from harness.data.synth.frames import FRAME_KINDS, FRAMES, Frame
from harness.data.synth.lexicon import WORD_SETS
from harness.data.synth.phrasings import PHRASINGS, TWO_ONLY, pattern_kind

SLOT = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class Entry:
    """One wording in a synonym set; `id` is "<set id>#<index>" and goes into query metadata."""

    id: str
    set_id: str
    index: int
    text: str
    novel: bool

    @property
    def two_only(self) -> bool:
        return self.text.startswith(TWO_ONLY)


def reserved_count(n: int) -> int:
    return max(1, n // 4) if n >= 2 else 0


def _order_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _literal_texts() -> list[str]:
    """Every fixed piece of wording: word entries, pattern and frame text with slots cut out."""
    texts = [t for entries in WORD_SETS.values() for t in entries]
    for patterns in PHRASINGS.values():
        texts.extend(piece for p in patterns for piece in SLOT.split(p.removeprefix(TWO_ONLY)))
    texts.extend(piece for frame in FRAMES for piece in SLOT.split(frame.text))
    return [t for t in texts if t.strip()]


def word_pattern(text: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive match of `text` or its plural."""
    return re.compile(rf"(?<![\w-]){re.escape(text)}s?(?![\w-])", re.IGNORECASE)


def _occurs_elsewhere(text: str, literals: list[str]) -> bool:
    pattern = word_pattern(text)
    return any(other != text and pattern.search(other) for other in literals)


def _reserve(set_id: str, texts: tuple[str, ...], is_word_set: bool, literals: list[str]) -> set[int]:
    eligible = [
        k
        for k in range(1, len(texts))
        if not texts[k].startswith(TWO_ONLY)
        and not (is_word_set and _occurs_elsewhere(texts[k], literals))
        and (is_word_set or pattern_kind(texts[k]) != "loose")
    ]
    eligible.sort(key=lambda k: _order_key(f"{set_id}|{texts[k]}"))
    return set(eligible[: reserved_count(len(texts))])


@lru_cache(maxsize=1)
def lexicon() -> dict[str, tuple[Entry, ...]]:
    """Every synonym set (word sets and phrase-pattern sets) with each entry marked novel or seen."""
    literals = _literal_texts()
    out: dict[str, tuple[Entry, ...]] = {}
    for sets, is_word_set in ((WORD_SETS, True), (PHRASINGS, False)):
        for set_id, texts in sets.items():
            novel = _reserve(set_id, texts, is_word_set, literals)
            out[set_id] = tuple(Entry(f"{set_id}#{k}", set_id, k, t, k in novel) for k, t in enumerate(texts))
    return out


@lru_cache(maxsize=1)
def entries_by_id() -> dict[str, Entry]:
    return {e.id: e for entries in lexicon().values() for e in entries}


@lru_cache(maxsize=1)
def novel_frame_ids() -> frozenset[str]:
    """One frame of each sentence kind first, then the rest in hash order, max(1, n // 4) in all."""
    candidates = sorted((f for f in FRAMES if f.has_own_words), key=lambda f: _order_key(f.id))
    chosen: list[str] = []
    for kind in FRAME_KINDS:
        chosen.extend([f.id for f in candidates if f.kind == kind][:1])
    chosen.extend(f.id for f in candidates if f.id not in chosen)
    return frozenset(chosen[: reserved_count(len(FRAMES))])


def frame_is_novel(frame: Frame) -> bool:
    return frame.id in novel_frame_ids()


@lru_cache(maxsize=2)
def frames_for(novel: bool) -> tuple[Frame, ...]:
    return tuple(f for f in FRAMES if frame_is_novel(f) == novel)


def inventory() -> dict[str, dict[str, int]]:
    """How many frames and lexicon entries each phrasing may use (recorded in dataset.json)."""
    entries = [e for es in lexicon().values() for e in es]
    return {
        "frames": {"seen": len(frames_for(False)), "novel": len(frames_for(True))},
        "lexicon": {"seen": sum(not e.novel for e in entries), "novel": sum(e.novel for e in entries)},
    }
