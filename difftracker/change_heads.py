"""Dense supervision of *what changed*: linear heads on the text-independent image tokens.

Queries name what changed ("the piece that went from green to blue", "the striped star that was
taken away"), but the referring score learns those words only from one sparse signal per query.
The dataset knows more: every difference's edit type and its object's attributes before and after
the edit. Each head here reads the image tokens of a pair (before the neck fuses them with any
query) and, on every token whose cell centre lies inside a difference box, predicts one of those
labels with cross-entropy: the edit type, and each attribute of the object before and after
("absent" on the side where there is no object: before an `add`, after a `remove`). The heads run
once per pair, whatever its number of queries, and are linear, so what they teach must be readable
from the tokens themselves, where the neck and the referring score can use it.

The label names and classes (`ChangeVocabulary`) come from the training data and are stored in the
model config; a label a sample does not record is ignored, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn

from difftracker.box_ops import cxcywh_to_xyxy

ABSENT = "absent"
"""The attribute class on the side of an edit where the object does not exist."""
IGNORE = -100
"""Target index of a label the sample does not record (cross-entropy skips it)."""

ChangeVocabulary = tuple[tuple[str, tuple[str, ...]], ...]
"""((label name, (class, ...)), ...) sorted by name: the heads and their classes."""


def difference_labels(edit_type: str, before: Mapping[str, str] | None, after: Mapping[str, str] | None) -> dict:
    """The labels of one difference: `edit_type` and `before_<attr>` / `after_<attr>` for every
    attribute either side records (the missing side is ABSENT)."""
    before = before if isinstance(before, Mapping) else None
    after = after if isinstance(after, Mapping) else None
    labels = {"edit_type": edit_type}
    names = set(before or {}) | set(after or {})
    for side, described in (("before", before), ("after", after)):
        for name in names:
            labels[f"{side}_{name}"] = str(described[name]) if described and name in described else ABSENT
    return labels


def build_vocabulary(all_labels: Iterable[Mapping[str, str]]) -> ChangeVocabulary:
    """Every label name seen and its classes, sorted; names with fewer than two classes teach nothing."""
    classes: dict[str, set[str]] = {}
    for labels in all_labels:
        for name, value in labels.items():
            classes.setdefault(name, set()).add(value)
    return tuple((name, tuple(sorted(values))) for name, values in sorted(classes.items()) if len(values) > 1)


def normalise_vocabulary(value: object) -> ChangeVocabulary:
    """A vocabulary from the config: a mapping or pairs (JSON gives lists) -> the sorted tuple form."""
    if not value:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    vocabulary = []
    for item in items:  # type: ignore[union-attr]
        name, classes = item
        classes = tuple(str(c) for c in classes)
        if not isinstance(name, str) or not name.isidentifier() or len(classes) < 2 or len(set(classes)) < len(classes):
            raise ValueError(f"change head {name!r}: a label name (identifier) and two or more distinct classes")
        vocabulary.append((name, classes))
    return tuple(sorted(vocabulary))


def encode_labels(labels: Mapping[str, str] | None, vocabulary: ChangeVocabulary) -> list[int]:
    """Class indices of one difference's labels in vocabulary order (IGNORE where unknown)."""
    out = []
    for name, classes in vocabulary:
        value = (labels or {}).get(name)
        out.append(classes.index(value) if value in classes else IGNORE)
    return out


class ChangeHeads(nn.Module):
    """One linear classifier per label over the image tokens: (P, N, d) -> {name: (P, N, classes)}."""

    def __init__(self, d_model: int, vocabulary: ChangeVocabulary) -> None:
        super().__init__()
        self.names = [name for name, _ in vocabulary]
        self.heads = nn.ModuleDict({name: nn.Linear(d_model, len(classes)) for name, classes in vocabulary})

    def forward(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: self.heads[name](tokens) for name in self.names}


def token_owners(centres: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """(N,) index of the smallest box (G, 4 cxcywh) whose area holds each cell centre (N, 2), -1 if none."""
    if boxes.numel() == 0:
        return torch.full((centres.shape[0],), -1, dtype=torch.long, device=centres.device)
    xyxy = cxcywh_to_xyxy(boxes.float())
    inside = (
        (centres[:, None, 0] >= xyxy[None, :, 0])
        & (centres[:, None, 0] <= xyxy[None, :, 2])
        & (centres[:, None, 1] >= xyxy[None, :, 1])
        & (centres[:, None, 1] <= xyxy[None, :, 3])
    )
    area = (boxes[:, 2] * boxes[:, 3]).float()
    owner = torch.where(inside, area[None, :], torch.full_like(area[None, :], float("inf"))).argmin(1)
    return torch.where(inside.any(1), owner, torch.full_like(owner, -1))


def change_loss(
    logits: Mapping[str, torch.Tensor],
    centres: torch.Tensor,
    pair_boxes: list[torch.Tensor],
    pair_labels: list[torch.Tensor],
    names: list[str],
) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean over heads of the cross-entropy on the tokens inside a difference box.

    logits: {name: (P, N, C)}; centres (N, 2); per pair p: its difference boxes (G_p, 4) cxcywh and
    their class indices (G_p, len(names)), IGNORE where a label is unknown. Returns the loss and the
    per-head values and token accuracies (for the training log)."""
    targets = []
    for boxes, labels in zip(pair_boxes, pair_labels, strict=True):
        owner = token_owners(centres.float(), boxes.to(centres.device))
        target = torch.full((centres.shape[0], len(names)), IGNORE, dtype=torch.long, device=centres.device)
        inside = owner >= 0
        target[inside] = labels.to(centres.device)[owner[inside]]
        targets.append(target)
    target = torch.stack(targets)  # (P, N, H)
    first = next(iter(logits.values()))
    total = first.new_zeros((), dtype=torch.float32)
    parts: dict[str, float] = {}
    used = 0
    for h, name in enumerate(names):
        wanted = target[..., h]
        known = wanted != IGNORE
        if not bool(known.any()):
            continue
        head_logits = logits[name].float()
        loss = nn.functional.cross_entropy(head_logits[known], wanted[known])
        total = total + loss
        used += 1
        parts[f"change_{name}"] = float(loss.detach())
        parts[f"change_acc_{name}"] = float((head_logits[known].argmax(-1) == wanted[known]).float().mean())
    return total / max(used, 1), parts
