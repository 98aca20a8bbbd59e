"""DiffTracker's training loss: Hungarian-matched L1 + GIoU box losses and sigmoid focal losses on
the difference score (every difference of the pair is a positive) and on the referring score
(only the difference the query means), on every decoder layer (auxiliary losses) and on the
selected encoder proposals (two-stage)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torchvision.ops import generalized_box_iou_loss, sigmoid_focal_loss

from difftracker.box_ops import cxcywh_to_xyxy
from difftracker.decoder import DecoderOutput
from difftracker.matcher import MatchCosts, hungarian_match


@dataclass(frozen=True)
class LossWeights:
    difference: float = 1.0
    referring: float = 2.0
    l1: float = 5.0
    giou: float = 2.0
    proposals: float = 1.0
    """Weight of the encoder-proposal losses relative to a decoder layer's."""
    matching: MatchCosts = field(default_factory=MatchCosts)


@dataclass
class GroundingTargets:
    """Per query q: every difference box of its pair (G_q, 4) cxcywh in [0, 1] and which one it means."""

    boxes: list[torch.Tensor]
    referred: list[int]


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
        referring_target = torch.zeros_like(referring_logits)
        for q, (rows, cols) in enumerate(matches):
            hit = rows[cols == targets.referred[q]]
            referring_target[q, hit] = 1.0
        losses["referring"] = sigmoid_focal_loss(referring_logits, referring_target, reduction="sum") / len(matches)
    return losses


def grounding_loss(
    output: DecoderOutput, targets: GroundingTargets, weights: LossWeights | None = None
) -> tuple[torch.Tensor, dict[str, float]]:
    """The total loss and its parts (summed over layers) for logging."""
    weights = weights or LossWeights()
    layers = [
        (output.boxes[i], output.difference_logits[i], output.referring_logits[i], 1.0)
        for i in range(output.boxes.shape[0])
    ]
    layers.append((output.proposal_boxes, output.proposal_logits, None, weights.proposals))
    total = output.boxes.new_zeros(())
    parts: dict[str, float] = {}
    for boxes, difference, referring, scale in layers:
        for name, value in _layer_loss(boxes.float(), difference.float(), None if referring is None else referring.float(), targets, weights).items():
            total = total + scale * getattr(weights, name) * value
            parts[name] = parts.get(name, 0.0) + float(value.detach())
    return total, parts
