"""DiffTracker's training loss: Hungarian-matched L1 + GIoU box losses and sigmoid focal losses on
the difference score (every difference of the pair is a positive) and on the referring score
(only the difference the query means), on every decoder layer (auxiliary losses); and dense
token losses on the encoder output that seeds the decoder (two-stage): each image token whose
cell centre lies in a difference box must score as a difference, regress that box, and, when it
is the box the query means, align with the words (referring score). The dense terms train the
query selection from every token at once, where the Hungarian-matched decoder losses reach only
the few matched queries (DETR-style decoders are slow to train on their own)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torchvision.ops import box_iou, generalized_box_iou_loss, sigmoid_focal_loss

from difftracker.box_ops import cxcywh_to_xyxy
from difftracker.change_heads import change_loss
from difftracker.decoder import DecoderOutput
from difftracker.matcher import MatchCosts, hungarian_match


@dataclass(frozen=True)
class LossWeights:
    difference: float = 1.0
    referring: float = 2.0
    l1: float = 5.0
    giou: float = 2.0
    tokens: float = 1.0
    """Weight of the dense token losses relative to a decoder layer's."""
    referring_positive_iou: float = 0.0
    """0: only the slot Hungarian-matched to the referred box is a referring positive (DETR's
    one-to-one target). > 0: every slot whose box has at least this IoU with the referred box is a
    positive too, so the near-duplicates of the right answer are not trained as negatives (the
    difference score keeps the one-to-one target)."""
    referring_per_positive: bool = False
    """False: the referring focal loss is summed and divided by the number of queries. True: divided
    by the number of referring positives, so extra positives (`referring_positive_iou`) do not
    raise the term's weight; with one positive per query the two agree."""
    change: float = 1.0
    """Weight of the dense change heads' cross-entropy (difftracker/change_heads.py), when the model
    has them; relative to a decoder layer's terms, like `tokens`."""
    matching: MatchCosts = field(default_factory=MatchCosts)


@dataclass
class GroundingTargets:
    """Per query q: every difference box of its pair (G_q, 4) cxcywh in [0, 1] and which one it means.
    For the change heads, per pair p: its difference boxes (G_p, 4) cxcywh and their label indices
    (G_p, heads) in the model's change vocabulary."""

    boxes: list[torch.Tensor]
    referred: list[int]
    pair_boxes: list[torch.Tensor] | None = None
    pair_labels: list[torch.Tensor] | None = None


def referring_targets(
    boxes: torch.Tensor, matches: list[tuple[torch.Tensor, torch.Tensor]], targets: GroundingTargets, iou: float
) -> torch.Tensor:
    """(Q, K) referring targets: 1 on the slot matched to the referred box and, with `iou` > 0, on
    every slot whose (detached) box overlaps the referred box by at least `iou`."""
    target = boxes.new_zeros(boxes.shape[:2])
    for q, (rows, cols) in enumerate(matches):
        target[q, rows[cols == targets.referred[q]]] = 1.0
        if iou > 0 and targets.referred[q] >= 0:
            referred = cxcywh_to_xyxy(targets.boxes[q][targets.referred[q]].to(boxes).reshape(1, 4))
            overlap = box_iou(cxcywh_to_xyxy(boxes[q].detach()), referred)[:, 0]
            target[q, overlap >= iou] = 1.0
    return target


def _layer_loss(
    boxes: torch.Tensor,
    difference_logits: torch.Tensor,
    referring_logits: torch.Tensor | None,
    targets: GroundingTargets,
    weights: LossWeights,
) -> dict[str, torch.Tensor]:
    referred = targets.referred if referring_logits is not None else [-1] * len(targets.referred)
    matches = hungarian_match(boxes, difference_logits, referring_logits, targets.boxes, referred, weights.matching)
    query_index = torch.cat([torch.full_like(rows, q) for q, (rows, _) in enumerate(matches)])
    slot_index = torch.cat([rows for rows, _ in matches])
    matched_targets = torch.cat([targets.boxes[q][cols] for q, (_, cols) in enumerate(matches)]).to(boxes)
    num_boxes = max(float(len(matched_targets)), 1.0)
    predicted = boxes[query_index, slot_index]
    positives = torch.zeros_like(difference_logits)
    positives[query_index, slot_index] = 1.0
    losses = {
        "l1": torch.nn.functional.l1_loss(predicted, matched_targets, reduction="sum") / num_boxes,
        "giou": generalized_box_iou_loss(cxcywh_to_xyxy(predicted), cxcywh_to_xyxy(matched_targets), reduction="sum")
        / num_boxes,
        "difference": sigmoid_focal_loss(difference_logits, positives, reduction="sum") / num_boxes,
    }
    if referring_logits is not None:
        referring_target = referring_targets(boxes, matches, targets, weights.referring_positive_iou)
        norm = max(float(referring_target.sum()), 1.0) if weights.referring_per_positive else len(matches)
        losses["referring"] = sigmoid_focal_loss(referring_logits, referring_target, reduction="sum") / norm
    return losses


def _token_loss(output: DecoderOutput, targets: GroundingTargets) -> dict[str, torch.Tensor]:
    """Dense losses on every token (see module docstring); a token inside several boxes takes the smallest."""
    centres = output.token_centres.float()
    difference_target = torch.zeros_like(output.token_difference_logits, dtype=torch.float32)
    referring_target = torch.zeros_like(difference_target)
    box_target = torch.zeros_like(output.token_boxes, dtype=torch.float32)
    for q, boxes in enumerate(targets.boxes):
        xyxy = cxcywh_to_xyxy(boxes.float())
        inside = (
            (centres[:, None, 0] >= xyxy[None, :, 0])
            & (centres[:, None, 0] <= xyxy[None, :, 2])
            & (centres[:, None, 1] >= xyxy[None, :, 1])
            & (centres[:, None, 1] <= xyxy[None, :, 3])
        )
        area = (boxes[:, 2] * boxes[:, 3]).float()
        owner = torch.where(inside, area[None, :], torch.full_like(inside, float("inf"), dtype=torch.float32)).argmin(1)
        positive = inside.any(1)
        difference_target[q] = positive.float()
        referring_target[q] = (inside[:, targets.referred[q]]).float()
        box_target[q] = boxes.float()[owner]
    positives = difference_target.bool()
    num_positive = max(float(positives.sum()), 1.0)
    num_referred = max(float(referring_target.sum()), 1.0)
    predicted, wanted = output.token_boxes.float()[positives], box_target[positives]
    return {
        "difference": sigmoid_focal_loss(output.token_difference_logits.float(), difference_target, reduction="sum")
        / num_positive,
        "referring": sigmoid_focal_loss(output.token_referring_logits.float(), referring_target, reduction="sum")
        / num_referred,
        "l1": torch.nn.functional.l1_loss(predicted, wanted, reduction="sum") / num_positive,
        "giou": generalized_box_iou_loss(cxcywh_to_xyxy(predicted), cxcywh_to_xyxy(wanted), reduction="sum")
        / num_positive,
    }


def grounding_loss(
    output: DecoderOutput, targets: GroundingTargets, weights: LossWeights | None = None
) -> tuple[torch.Tensor, dict[str, float]]:
    """The total loss and its parts (summed over layers) for logging."""
    weights = weights or LossWeights()
    total = output.boxes.new_zeros((), dtype=torch.float32)
    parts: dict[str, float] = {}
    for i in range(output.boxes.shape[0]):
        layer = _layer_loss(
            output.boxes[i].float(),
            output.difference_logits[i].float(),
            output.referring_logits[i].float(),
            targets,
            weights,
        )
        for name, value in layer.items():
            total = total + getattr(weights, name) * value
            parts[name] = parts.get(name, 0.0) + float(value.detach())
    for name, value in _token_loss(output, targets).items():
        total = total + weights.tokens * getattr(weights, name) * value
        parts[f"token_{name}"] = float(value.detach())
    if output.change_logits is not None:
        if targets.pair_boxes is None or targets.pair_labels is None:
            raise ValueError("the model has change heads but the targets carry no per-pair change labels")
        value, change_parts = change_loss(
            output.change_logits,
            output.token_centres,
            targets.pair_boxes,
            targets.pair_labels,
            list(output.change_logits),
        )
        total = total + weights.change * value
        parts["change"] = float(value.detach())
        parts.update(change_parts)
    return total, parts
