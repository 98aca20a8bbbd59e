"""Referring-phrase patterns of DiffGround-Synth 2: the ways each query meaning can be worded.

`PHRASINGS[set_id]` lists patterns that all mean the same to the query checker (one meaning per
set, see meanings.py); like the word sets they are synonym sets, and a quarter of each is held out
for test-novel. A slot `{name}` is filled from the meaning's parameters (`{to}` -> "colour.red") or,
failing that, from the word set of that name (`{noun}` -> lexicon.ALIASES -> "noun.object");
`{name+s}` takes the plural (every noun in those sets takes a plain "s").
A pattern starting "[2]" is a comparative among exactly two differences ("the bigger of the two
changes") and is used only when the pair has two. Patterns describe the after state, the before
state ("what used to be ...", "the spot where ... stood") or the change between them.
"""

from __future__ import annotations

TWO_ONLY = "[2]"

PHRASINGS: dict[str, tuple[str, ...]] = {
    # --- family "change": a property of the edit itself ---
    "np.change.colour_from_to": (
        "the {noun} that went from {from} to {to}",
        "the {noun} that turned from {from} to {to}",
        "the {from} {noun} that is {to} now",
        "the {noun} that was {from} and is now {to}",
        "what changed from {from} to {to}",
        "the {noun} recoloured from {from} to {to}",
        "the {to} {noun} that used to be {from}",
    ),  # fmt: skip
    "np.change.colour_to": (
        "the {noun} that {vp.turn} {to}",
        "the {noun} now coloured {to}",
        "the {noun} that got painted {to}",
        "what {vp.turn} {to}",
        "the {noun} whose new colour is {to}",
    ),  # fmt: skip
    "np.change.colour_from": (
        "the {noun} that is no longer {from}",
        "what used to be {from}",
        "the {noun} that was {from} before",
        "the formerly {from} {noun}",
        "the {noun} that stopped being {from}",
    ),  # fmt: skip
    "np.change.recoloured": (
        "the {noun} that {vp.recolour}",
        "what {vp.recolour}",
        "the {noun} whose colour is different now",
        "the {noun} with a colour it did not have before",
    ),  # fmt: skip
    "np.change.texture_from_to": (
        "the {noun} that went from {tex_from} to {tex_to}",
        "the {tex_from} {noun} that is {tex_to} now",
        "the {noun} that used to be {tex_from} and is now {tex_to}",
        "what changed from {tex_from} to {tex_to}",
    ),  # fmt: skip
    "np.change.texture_to": (
        "the {noun} whose surface is now {tex_to}",
        "the {noun} that became {tex_to}",
        "what turned {tex_to}",
        "the {noun} that is {tex_to} now but was not before",
    ),  # fmt: skip
    "np.change.retextured": (
        "the {noun} that {vp.retexture}",
        "what {vp.retexture}",
        "the {noun} whose pattern is different now",
        "the {noun} with a fill pattern it did not have before",
    ),  # fmt: skip
    "np.change.grew": (
        "the {noun} that {vp.grow}",
        "what {vp.grow}",
        "the {noun} that is bigger now",
        "the {noun} that used to be smaller",
    ),  # fmt: skip
    "np.change.shrank": (
        "the {noun} that {vp.shrink}",
        "what {vp.shrink}",
        "the {noun} that is smaller now",
        "the {noun} that used to be bigger",
    ),  # fmt: skip
    "np.change.size_from_to": (
        "the {noun} that went from {size_from} to {size_to}",
        "the {noun} that was {size_from} and is now {size_to}",
        "the once {size_from} {noun} that is {size_to} now",
        "what changed from {size_from} to {size_to}",
    ),  # fmt: skip
    "np.change.swapped_for_looks": (
        "what was swapped for something {to} and {tex_to}",
        "the {noun} replaced with a {to}, {tex_to} one",
        "what got switched for a {tex_to} {to} {noun}",
        "the {noun} that became some other {tex_to} {to} {noun}",
    ),  # fmt: skip
    "np.change.removed_looks": (
        "the {size_from} {tex_from} {from} {noun} that {vp.remove}",
        "the spot where the {size_from} {tex_from} {from} {noun} stood",
        "where the {size_from} {tex_from} {from} {noun} used to be",
        "the place where a {size_from} {tex_from} {from} {noun} was before",
        "what used to be the {size_from} {tex_from} {from} {noun}",
    ),  # fmt: skip
    "np.change.added_looks": (
        "the new {to} {tex_to} {noun}",
        "the {to} {tex_to} {noun} that {vp.add}",
        "the {tex_to} {to} {noun} that was not there before",
        "the {noun} that is new, {to} and {tex_to}",
    ),  # fmt: skip
    "np.change.restyled_by_colour": (
        "the {from} {noun} that {vp.restyle}",
        "the {from} {noun} whose look changed",
        "the {from} {noun} that was modified",
        "the {from} {noun} that now looks different",
    ),  # fmt: skip
    # --- family "edit": the kind of edit, optionally with a place or an attribute ---
    "np.edit.remove": (
        "the {noun} that {vp.remove}",
        "what {vp.remove}",
        "the {noun} no longer in the second {image}",
        "the spot where something {vp.remove}",
        "the empty spot where a {noun} used to be",
    ),  # fmt: skip
    "np.edit.add": (
        "the {noun} that {vp.add}",
        "what {vp.add}",
        "the new {noun}",
        "the {noun} that was not in the first {image}",
        "the newcomer",
    ),  # fmt: skip
    "np.edit.replace": (
        "the {noun} that {vp.replace}",
        "what {vp.replace}",
        "the spot where one {noun} became another",
        "the {noun} that is now a different kind of {noun}",
    ),  # fmt: skip
    "np.edit.appearance": (
        "the {noun} that {vp.restyle}",
        "what {vp.restyle}",
        "the {noun} that stayed in place but looks different",
        "the restyled {noun}",
    ),  # fmt: skip
    "np.edit.region": (
        "the {noun} in the {region} that {vp}",
        "what {vp} in the {region}",
        "the {noun} that {vp}, in the {region} of the {image}",
        "in the {region}, the {noun} that {vp}",
        "the one in the {region} that {vp}",
    ),  # fmt: skip
    "np.edit.colour_region": (
        "the {col} {noun} in the {region} that {vp}",
        "the {col} {noun} that {vp}, in the {region}",
        "in the {region}, the {col} {noun} that {vp}",
        "the {col} one in the {region} that {vp}",
    ),  # fmt: skip
    # --- family "position": where the change is, absolutely, by ranking or by comparison ---
    "np.position.leftmost": (
        "the leftmost {change}",
        "the {change} furthest to the left",
        "the {change} on the far left",
        "the {change} farther left than any other",
        "[2]the left one of the two {change+s}",
    ),  # fmt: skip
    "np.position.rightmost": (
        "the rightmost {change}",
        "the {change} furthest to the right",
        "the {change} on the far right",
        "the {change} farther right than any other",
        "[2]the right one of the two {change+s}",
    ),  # fmt: skip
    "np.position.topmost": (
        "the {change} closest to the top",
        "the topmost {change}",
        "the highest {change}",
        "the {change} nearest the top edge",
        "[2]the upper of the two {change+s}",
    ),  # fmt: skip
    "np.position.bottommost": (
        "the lowest {change}",
        "the bottommost {change}",
        "the {change} closest to the bottom",
        "the {change} nearest the bottom edge",
        "[2]the lower of the two {change+s}",
    ),  # fmt: skip
    "np.position.nearest_centre": (
        "the {change} closest to the centre of the {image}",
        "the most central {change}",
        "the {change} nearest the middle",
        "the {change} nearest to the centre",
        "[2]the more central of the two {change+s}",
    ),  # fmt: skip
    "np.position.largest": (
        "the biggest {change}",
        "the largest {change}",
        "the {change} that covers the most area",
        "the {change} bigger than all the others",
        "[2]the bigger of the two {change+s}",
    ),  # fmt: skip
    "np.position.smallest": (
        "the smallest {change}",
        "the tiniest {change}",
        "the {change} covering the least area",
        "the {change} smaller than all the others",
        "[2]the smaller of the two {change+s}",
    ),  # fmt: skip
    "np.position.nearest_corner": (
        "the {change} nearest the {corner}",
        "the {change} closest to the {corner}",
        "the {change} nearest to the {corner}",
        "the {change} that is closest to the {corner}",
    ),  # fmt: skip
    "np.position.quadrant": (
        "the {change} in the {quadrant}",
        "the {change} located in the {quadrant}",
        "what changed in the {quadrant}",
        "the only {change} in the {quadrant}",
    ),  # fmt: skip
    "np.position.half": (
        "the only {change} in the {region} of the {image}",
        "the {change} in the {region}",
        "the single {change} in the {region}",
        "what changed in the {region}",
    ),  # fmt: skip
    "np.position.second_from_left": (
        "the second {change} from the left",
        "the {change} second from the left",
        "the next-to-leftmost {change}",
        "counting from the left, the second {change}",
    ),  # fmt: skip
    "np.position.edit_extreme.left": (
        "the leftmost {noun} that {vp}",
        "the {noun} furthest left that {vp}",
        "the {noun} that {vp}, the one most to the left",
        "of those that changed like this, the leftmost {noun} that {vp}",
    ),  # fmt: skip
    "np.position.edit_extreme.right": (
        "the rightmost {noun} that {vp}",
        "the {noun} furthest right that {vp}",
        "the {noun} that {vp}, the one most to the right",
        "of those that changed like this, the rightmost {noun} that {vp}",
    ),  # fmt: skip
    "np.position.edit_extreme.top": (
        "the topmost {noun} that {vp}",
        "the highest {noun} that {vp}",
        "the {noun} that {vp}, the one nearest the top",
        "of those that changed like this, the topmost {noun} that {vp}",
    ),  # fmt: skip
    "np.position.edit_extreme.bottom": (
        "the bottommost {noun} that {vp}",
        "the lowest {noun} that {vp}",
        "the {noun} that {vp}, the one nearest the bottom",
        "of those that changed like this, the bottommost {noun} that {vp}",
    ),  # fmt: skip
    # --- family "relation": relative to an unchanged, uniquely described object ---
    "np.relation.edit": (
        "the {noun} that {vp}, {rel} the {lm}",
        "the {noun} {rel} the {lm} that {vp}",
        "what {vp} {rel} the {lm}",
        "the {noun} that {vp} {rel} the {lm}",
    ),  # fmt: skip
    "np.relation.any": (
        "the {change} {rel} the {lm}",
        "what changed {rel} the {lm}",
        "the {change} located {rel} the {lm}",
        "the {change} that is {rel} the {lm}",
    ),  # fmt: skip
    "np.relation.subtype": (
        "the {noun} that {vp}, {rel} the {lm}",
        "the {noun} {rel} the {lm} that {vp}",
        "what {vp} {rel} the {lm}",
        "the {noun} that {vp} {rel} the {lm}",
    ),  # fmt: skip
    "np.relation.colour": (
        "the {col} {noun} that {vp}, {rel} the {lm}",
        "the {col} {noun} {rel} the {lm} that {vp}",
        "the {col} one that {vp} {rel} the {lm}",
        "the {col} {noun} {rel} the {lm}, the one that {vp}",
    ),  # fmt: skip
    "np.relation.nearest": (
        "the {change} closest to the {lm}",
        "the {change} nearest the {lm}",
        "the {change} nearest to the {lm}",
        "the {change} next to the {lm}",
        "[2]the {change} that is closer to the {lm}",
    ),  # fmt: skip
    # --- family "category": names the target's shape (only with allow_category_names) ---
    "np.category.remove": (
        "the {shape_from} that {vp.remove}",
        "the missing {shape_from}",
        "where the {shape_from} used to be",
        "the spot where the {shape_from} stood",
    ),  # fmt: skip
    "np.category.add": (
        "the new {shape_to}",
        "the {shape_to} that {vp.add}",
        "the {shape_to} that was not there before",
        "the freshly added {shape_to}",
    ),  # fmt: skip
    "np.category.replace": (
        "the {shape_from} that became a {shape_to}",
        "the {shape_from} replaced by a {shape_to}",
        "the {shape_to} that used to be a {shape_from}",
        "where a {shape_from} turned into a {shape_to}",
    ),  # fmt: skip
    "np.category.colour": (
        "the {shape_from} that {vp.turn} {to}",
        "the {shape_from} now coloured {to}",
        "the {shape_from} that got painted {to}",
        "the {shape_from} whose new colour is {to}",
    ),  # fmt: skip
    "np.category.texture": (
        "the {shape_from} that became {tex_to}",
        "the {shape_from} that is {tex_to} now",
        "the {shape_from} whose surface turned {tex_to}",
        "the {shape_from} that got a {tex_to} fill",
    ),  # fmt: skip
    "np.category.grew": (
        "the {shape_from} that {vp.grow}",
        "the {shape_from} that is bigger now",
        "the enlarged {shape_from}",
        "the {shape_from} that used to be smaller",
    ),  # fmt: skip
    "np.category.shrank": (
        "the {shape_from} that {vp.shrink}",
        "the {shape_from} that is smaller now",
        "the shrunken {shape_from}",
        "the {shape_from} that used to be bigger",
    ),  # fmt: skip
    "np.category.shape_changed": (
        "the {shape} that changed",
        "the {shape} that is different now",
        "the {shape} that was edited",
        "the {shape} that got modified",
    ),  # fmt: skip
}


def pattern_kind(pattern: str) -> str:
    """ "def" for "the ...", "free" for a free relative ("what ...", "where ..."), else "loose"."""
    text = pattern.removeprefix(TWO_ONLY)
    if text.startswith("the "):
        return "def"
    if text.startswith(("what ", "where ")):
        return "free"
    return "loose"
