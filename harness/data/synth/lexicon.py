"""The word sets of DiffGround-Synth 2 queries: synonyms for colours, textures, sizes, shapes, nouns,
edit verbs and spatial words.

Each set lists interchangeable wordings of one concept; the first entry is the canonical word (the
one version 1 used, where it had one). Every entry of a set means the same for the query checker,
so a query's meaning never depends on which synonym was drawn. A quarter of each set (at least one
entry where the set has two or more) is held out for the test-novel split: see held_out.py.
Verb phrases are written for a singular subject ("the object that ...", "what ...").
"""

from __future__ import annotations

WORD_SETS: dict[str, tuple[str, ...]] = {
    # --- colours (palette.COLOURS) ---
    "colour.red": ("red", "crimson", "scarlet", "cherry-red"),
    "colour.orange": ("orange", "tangerine", "amber", "pumpkin-coloured"),
    "colour.yellow": ("yellow", "golden", "lemon-yellow", "canary-yellow"),
    "colour.green": ("green", "emerald", "leaf-green", "grass-green"),
    "colour.blue": ("blue", "cobalt", "royal blue", "sapphire"),
    "colour.purple": ("purple", "violet", "amethyst", "grape-coloured"),
    "colour.pink": ("pink", "rose", "rosy", "hot pink"),
    "colour.cyan": ("cyan", "turquoise", "aqua", "aquamarine"),
    "colour.white": ("white", "snow-white", "ivory", "pearly"),
    "colour.black": ("black", "jet-black", "ebony", "coal-black"),
    # --- fill textures (palette.TEXTURES) ---
    "texture.flat": ("plain", "solid", "unpatterned", "flat-coloured"),
    "texture.striped": ("striped", "stripy", "banded", "streaked"),
    "texture.dotted": ("dotted", "spotted", "polka-dot", "speckled"),
    "texture.checkered": ("checkered", "chequered", "checked", "checkerboard"),
    # --- size classes (palette.SIZES) ---
    "size.small": ("small", "little", "tiny", "smallish"),
    "size.medium": ("medium", "medium-sized", "mid-sized", "average-sized"),
    "size.large": ("large", "big", "huge", "sizeable"),
    # --- shape categories (shapes.SHAPES): landmarks, and targets only with allow_category_names ---
    "shape.disc": ("disc", "circle", "disk", "round disc"),
    "shape.square": ("square", "block", "square tile"),
    "shape.triangle": ("triangle", "wedge", "triangular tile"),
    "shape.star": ("star", "five-pointed star", "starburst"),
    "shape.hexagon": ("hexagon", "hex", "six-sided tile"),
    "shape.diamond": ("diamond", "rhombus", "lozenge"),
    "shape.cross": ("cross", "plus sign", "cruciform tile"),
    "shape.ring": ("ring", "donut", "hoop", "annulus"),
    "shape.crescent": ("crescent", "moon", "sickle"),
    "shape.heart": ("heart", "love heart", "valentine heart"),
    # --- nouns ---
    "noun.object": ("object", "thing", "item", "piece", "figure", "element", "shape"),
    "noun.change": ("change", "difference", "edit", "modification", "alteration"),
    "noun.image": ("image", "picture", "photo", "scene"),
    # --- edit verbs (subject: the edited object) ---
    "vp.remove": (
        "was removed",
        "was taken away",
        "is gone",
        "is no longer there",
        "is missing",
        "was deleted",
        "was erased",
        "disappeared",
        "vanished",
    ),  # fmt: skip
    "vp.add": (
        "was added",
        "appeared",
        "is new",
        "was put in",
        "showed up",
        "was inserted",
        "popped up",
        "was newly placed",
    ),  # fmt: skip
    "vp.replace": (
        "was replaced",
        "was swapped for something else",
        "was exchanged for a different object",
        "got switched out",
        "was substituted",
        "turned into a different object",
    ),  # fmt: skip
    "vp.restyle": (
        "changed its look but stayed put",
        "was restyled",
        "looks different now",
        "got a new look",
        "was altered in place",
        "changed appearance",
    ),  # fmt: skip
    "vp.recolour": ("changed colour", "was recoloured", "got a new colour", "was repainted", "changed its colour"),
    "vp.retexture": (
        "changed pattern",
        "got a new pattern",
        "was retextured",
        "changed its surface",
        "had its pattern redone",
    ),  # fmt: skip
    "vp.resize": ("changed size", "was resized", "got a different size", "changed its size"),
    "vp.grow": ("grew", "got bigger", "became larger", "was enlarged", "expanded", "was scaled up"),
    "vp.shrink": ("shrank", "got smaller", "became smaller", "was shrunk", "was scaled down", "contracted"),
    "vp.turn": ("turned", "became", "was changed to", "is now"),
    # --- spatial words ---
    "rel.left_of": ("left of", "to the left of", "on the left of", "leftward of"),
    "rel.right_of": ("right of", "to the right of", "on the right of", "rightward of"),
    "rel.above": ("above", "over", "higher than", "further up than"),
    "rel.below": ("below", "under", "beneath", "underneath", "lower than"),
    "half.upper": ("upper half", "top half", "upper part", "top part"),
    "half.lower": ("lower half", "bottom half", "lower part", "bottom part"),
    "half.left": ("left half", "left side", "left-hand side", "left part"),
    "half.right": ("right half", "right side", "right-hand side", "right part"),
    "quadrant.upper_left": ("upper left", "top left", "upper-left quarter", "top-left quarter"),
    "quadrant.upper_right": ("upper right", "top right", "upper-right quarter", "top-right quarter"),
    "quadrant.lower_left": ("lower left", "bottom left", "lower-left quarter", "bottom-left quarter"),
    "quadrant.lower_right": ("lower right", "bottom right", "lower-right quarter", "bottom-right quarter"),
    "corner.top-left": ("top-left corner", "upper-left corner", "top left-hand corner", "northwest corner"),
    "corner.top-right": ("top-right corner", "upper-right corner", "top right-hand corner", "northeast corner"),
    "corner.bottom-left": ("bottom-left corner", "lower-left corner", "bottom left-hand corner", "southwest corner"),
    "corner.bottom-right": (
        "bottom-right corner",
        "lower-right corner",
        "bottom right-hand corner",
        "southeast corner",
    ),  # fmt: skip
}

# Short names the phrase patterns use for the most common sets.
ALIASES: dict[str, str] = {"noun": "noun.object", "change": "noun.change", "image": "noun.image"}

# Edit verb set per edit type / appearance subtype.
EDIT_VERBS: dict[str, str] = {
    "remove": "vp.remove", "add": "vp.add", "replace": "vp.replace", "appearance": "vp.restyle",
}  # fmt: skip
SUBTYPE_VERBS: dict[str, str] = {"colour": "vp.recolour", "texture": "vp.retexture", "size": "vp.resize"}


def attribute_set(attribute: str, value: str) -> str:
    """The word set naming one object attribute value, e.g. ("colour", "red") -> "colour.red"."""
    return f"{attribute}.{value}"


def place_set(kind: str, name: str) -> str:
    """The word set of a relation, half, quadrant or corner as query_templates names it.

    ("rel", "left of") -> "rel.left_of"; ("half", "upper half") -> "half.upper";
    ("quadrant", "upper left") -> "quadrant.upper_left"; ("corner", "top-left") -> "corner.top-left".
    """
    if kind == "half":
        name = name.split()[0]
    return f"{kind}.{name.replace(' ', '_')}"
