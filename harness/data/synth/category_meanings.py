"""Query meanings of the "category" family (only with allow_category_names): they name the target's
shape, in any of its wordings (lexicon.py's shape sets). Registered into meanings.MEANINGS.
"""

from __future__ import annotations

from harness.data.synth.descriptors import DifferenceDescriptor
from harness.data.synth.meanings import Meaning, _attribute, _colour_of, _shape_of, _texture_of, meaning
from harness.data.synth.query_templates import _grew
from harness.data.synth.realize import Param


def category_key(t: DifferenceDescriptor) -> tuple:
    """What a category query says: the edit and the shapes (and new colour / texture / growth)."""
    if t.edit_type == "remove":
        return ("remove", t.before.shape)
    if t.edit_type == "add":
        return ("add", t.after.shape)
    if t.edit_type == "replace":
        return ("replace", t.before.shape, t.after.shape)
    if t.subtype == "colour":
        return ("colour", t.before.shape, t.after.colour)
    if t.subtype == "texture":
        return ("texture", t.before.shape, t.after.texture)
    return ("grew" if _grew(t) else "shrank", t.before.shape)


@meaning("category.edit")
def _category_edit(target, ctx, rng):
    kind = category_key(target)[0]
    params: dict[str, Param] = {}
    if target.before is not None:
        params["shape_from"] = _shape_of(target.before)
    if target.after is not None:
        params.update(shape_to=_shape_of(target.after), to=_colour_of(target.after), tex_to=_texture_of(target.after))
    key = category_key(target)
    return Meaning("category.edit", "category", f"np.category.{kind}", params,
                   lambda d, strict: category_key(d) == key, cues=2)  # fmt: skip


_attribute("category.shape_changed", lambda t: {"shape": _shape_of(t.before or t.after)},
           lambda d, t: (d.before or d.after).shape == (t.before or t.after).shape)  # fmt: skip
