"""Choosing one query per difference and checking it picks out exactly that difference.

A drawn template whose query also fits another difference of the pair is *rewritten* (the next
template is tried); a difference for which no template is unambiguous is *dropped* (no query).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from harness.data.synth.descriptors import DifferenceDescriptor, SceneContext
from harness.data.synth.query_templates import FAMILIES, TEMPLATES, QueryCandidate, Template


@dataclass(frozen=True)
class QueryChoice:
    """The accepted query (None when dropped) and whether an ambiguous one was rewritten first."""

    candidate: QueryCandidate | None
    rewritten: bool

    @property
    def dropped(self) -> bool:
        return self.candidate is None


def picks_out_only(candidate: QueryCandidate, target: DifferenceDescriptor, ctx: SceneContext) -> bool:
    """The target fits the query with margins; no other difference fits it even without them."""
    if not candidate.matches(target, True):
        return False
    return not any(candidate.matches(other, False) for other in ctx.others(target))


def names_category(text: str, target: DifferenceDescriptor) -> bool:
    return any(re.search(rf"\b{re.escape(name)}s?\b", text) for name in target.category_names)


def choose_query(
    target: DifferenceDescriptor,
    ctx: SceneContext,
    rng: np.random.Generator,
    templates: dict[str, Template] | None = None,
) -> QueryChoice:
    """Families in a seeded random order, templates shuffled within each; first unambiguous wins.

    Drawing the family first keeps every family in use, whatever its number of templates.
    """
    templates = TEMPLATES if templates is None else templates
    families = [f for f in FAMILIES if f != "category" or ctx.allow_category_names]
    rejected_any = False
    for family_index in rng.permutation(len(families)):
        family = families[int(family_index)]
        members = [t for t in templates.values() if t.family == family]
        for member_index in rng.permutation(len(members)):
            candidate = members[int(member_index)].build(target, ctx, rng)
            if candidate is None:
                continue
            if not ctx.allow_category_names and names_category(candidate.text, target):
                continue
            if picks_out_only(candidate, target, ctx):
                return QueryChoice(candidate, rewritten=rejected_any)
            rejected_any = True
    return QueryChoice(None, rewritten=False)
