"""Sentence frames of DiffGround-Synth 2: the sentence a referring noun phrase is put into.

Every template family uses every frame (a frame's words carry nothing family-specific), so the
frames held out for test-novel are the same in every family (see held_out.py).

`{np}` is the referring noun phrase ("the object that was removed"); `{np_bare}` is the same
phrase without its leading article ("object that was removed"). A frame accepts:
  - "any": every phrase pattern, including loose ones ("in the left half, the ...");
  - "def_free": definite phrases ("the ...") and free relatives ("what was removed");
  - "def": definite phrases only ("Where is the ...?").
Noun-phrase frames are lowercase without final punctuation (RefCOCO style); all other frames are
sentences: a capital first letter and a final "." or "?".
"""

from __future__ import annotations

from dataclasses import dataclass

FRAME_KINDS: tuple[str, ...] = ("noun_phrase", "question", "imperative", "request", "two_sentence")
ACCEPTS: dict[str, frozenset[str]] = {
    "any": frozenset({"def", "free", "loose"}),
    "def_free": frozenset({"def", "free"}),
    "def": frozenset({"def"}),
}


@dataclass(frozen=True)
class Frame:
    id: str
    kind: str
    text: str
    accepts: str

    @property
    def bare(self) -> bool:
        return "{np_bare}" in self.text

    @property
    def has_own_words(self) -> bool:
        """False for the plain noun-phrase frames, whose queries are just the phrase."""
        return self.text not in ("{np}", "{np_bare}")


FRAMES: tuple[Frame, ...] = (
    Frame("np.plain", "noun_phrase", "{np}", "any"),
    Frame("np.bare", "noun_phrase", "{np_bare}", "def"),
    Frame("q.where", "question", "Where is {np}?", "def"),
    Frame("q.where_find", "question", "Where can I find {np}?", "def"),
    Frame("q.can_you", "question", "Can you find {np}?", "def_free"),
    Frame("q.point", "question", "Could you point to {np}?", "def_free"),
    Frame("q.region", "question", "Which region shows {np}?", "def_free"),
    Frame("imp.box", "imperative", "Box {np}.", "def_free"),
    Frame("imp.find", "imperative", "Find {np}.", "def_free"),
    Frame("imp.show", "imperative", "Show me {np}.", "def_free"),
    Frame("imp.locate", "imperative", "Locate {np}.", "def_free"),
    Frame("imp.mark", "imperative", "Mark {np}.", "def_free"),
    Frame("imp.draw", "imperative", "Draw a box around {np}.", "def_free"),
    Frame("imp.highlight_bare", "imperative", "Highlight {np_bare}.", "def"),
    Frame("req.looking", "request", "I'm looking for {np}.", "def_free"),
    Frame("req.location", "request", "I need the location of {np}.", "def_free"),
    Frame("req.help", "request", "Please help me find {np}.", "def_free"),
    Frame("req.see", "request", "I want to see {np}.", "def_free"),
    Frame("two.compare", "two_sentence", "Compare the two images. Where is {np}?", "def"),
    Frame("two.second", "two_sentence", "Look at the second image. Outline {np}.", "def_free"),
    Frame("two.differ", "two_sentence", "The images differ in a few places. Point out {np}.", "def_free"),
    Frame("two.few", "two_sentence", "A few things changed between the images. Which spot is {np}?", "def"),
)

FRAMES_BY_ID: dict[str, Frame] = {frame.id: frame for frame in FRAMES}
