"""Hungarian matching of decoder queries to a pair's difference boxes (scipy's
linear_sum_assignment), on a difference-score + L1 + GIoU cost as in DETR / Deformable DETR;
the box the query refers to also pays the referring score, so the matched query is one that can
say "this is the one"."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from scipy.optimize import linear_sum_assignment
from torchvision.ops import generalized_box_iou

from difftracker.box_ops import cxcywh_to_xyxy


@dataclass(frozen=True)
class MatchCosts:
    difference: float = 2.0
    referring: float = 2.0
    l1: float = 5.0
    giou: float = 2.0


def focal_cost(logits: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """Cost of calling each query positive under a sigmoid focal loss (Deformable DETR's class cost)."""
    p = logits.sigmoid()
    positive = alpha * (1 - p) ** gamma * -(p + 1e-8).log()
    negative = (1 - alpha) * p**gamma * -(1 - p + 1e-8).log()
    return positive - negative


def match_cost(
    boxes: torch.Tensor,
    difference_logits: torch.Tensor,
    referring_logits: torch.Tensor,
    targets: torch.Tensor,
    referred: int,
    costs: MatchCosts,
) -> torch.Tensor:
    """(K queries, G targets) cost for one query: boxes (K, 4) cxcywh, targets (G, 4) cxcywh."""
    cost = costs.l1 * torch.cdist(boxes, targets, p=1)
    cost = cost - costs.giou * generalized_box_iou(cxcywh_to_xyxy(boxes), cxcywh_to_xyxy(targets))
    cost = cost + costs.difference * focal_cost(difference_logits).unsqueeze(1)
    if referred >= 0:
        cost[:, referred] += costs.referring * focal_cost(referring_logits)
    return cost


@torch.no_grad()
def hungarian_match(
    boxes: torch.Tensor,
    difference_logits: torch.Tensor,
    referring_logits: torch.Tensor | None,
    targets: list[torch.Tensor],
    referred: list[int],
    costs: MatchCosts,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """For each query q: (query indices, target indices) of its optimal one-to-one assignment.

    boxes (Q, K, 4); logits (Q, K); targets[q] (G_q, 4); referred[q] the index of the box query q
    refers to (-1: no referring cost, e.g. for the encoder proposals).
    """
    matches = []
    for q, target in enumerate(targets):
        ref_logits = referring_logits[q] if referring_logits is not None else difference_logits[q]
        cost = match_cost(
            boxes[q].float(), difference_logits[q].float(), ref_logits.float(), target.float(), referred[q], costs
        )
        rows, cols = linear_sum_assignment(cost.cpu().numpy())
        matches.append((torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)))
    return matches
