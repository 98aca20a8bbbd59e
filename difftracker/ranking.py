"""How DiffTracker orders its final boxes for a query.

`decoder` (the paper's design): the last decoder layer's referring score of each box. `tokens`: the
mean referring probability of the dense token head over the image tokens whose cell centre lies
inside each box. The token head is trained with every token inside the referred box as a positive
(`losses._token_loss`), the decoder's referring score with one Hungarian-matched slot per query,
so the two can disagree about which of several near-duplicate boxes, and which difference, the
query means. `decoder*tokens` multiplies the two. A box holding no token centre scores 0 under the
token rankings. docs/difftracker.md records what each ranking measured.

The decoder's referring score is trained one-to-one (one matched slot per query), so it scores the
near-duplicates of its best box low. The token head is not: every box on the referred difference
scores about the same under it. The token rankings therefore decay each box's score by its
overlap with the boxes ranked above it (`suppress_duplicates`, Gaussian soft-NMS): the best box
and its score stay, the other boxes stay in the list, and a near-duplicate falls below the boxes
on other differences. Top-1 answers are unchanged; what changes is the rest of the ranked list,
and with it AP50, which counts every duplicate of a hit as a false positive.
"""

from __future__ import annotations

import torch
from torchvision.ops import box_iou

RANKINGS = ("decoder", "tokens", "decoder*tokens")


def token_means_in_boxes(boxes: torch.Tensor, centres: torch.Tensor, token_probs: torch.Tensor) -> torch.Tensor:
    """(Q, K) mean of `token_probs` (Q, N) over the tokens whose centre (N, 2) lies in each box (Q, K, 4 xyxy)."""
    x, y = centres[:, 0], centres[:, 1]
    inside = (
        (x[None, None, :] >= boxes[..., 0:1])
        & (x[None, None, :] <= boxes[..., 2:3])
        & (y[None, None, :] >= boxes[..., 1:2])
        & (y[None, None, :] <= boxes[..., 3:4])
    ).to(token_probs.dtype)  # (Q, K, N)
    count = inside.sum(-1)
    total = torch.einsum("qkn,qn->qk", inside, token_probs)
    return torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))


def ranking_scores(
    ranking: str,
    boxes: torch.Tensor,
    referring_logits: torch.Tensor,
    token_centres: torch.Tensor,
    token_referring_logits: torch.Tensor,
) -> torch.Tensor:
    """(Q, K) scores in [0, 1] of the final boxes (Q, K, 4 xyxy) under `ranking`."""
    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {RANKINGS}, got {ranking!r}")
    decoder = torch.sigmoid(referring_logits.float())
    if ranking == "decoder":
        return decoder
    tokens = token_means_in_boxes(boxes.float(), token_centres.float(), torch.sigmoid(token_referring_logits.float()))
    return tokens if ranking == "tokens" else decoder * tokens


def suppress_duplicates(boxes: torch.Tensor, scores: torch.Tensor, sigma: float = 0.5) -> torch.Tensor:
    """Gaussian soft-NMS (Bodla et al., "Soft-NMS", ICCV 2017) of one query's boxes (K, 4 xyxy) and
    scores (K,): the highest-scoring box is taken first with its score unchanged; every box not yet
    taken then has its score multiplied by exp(-IoU^2 / sigma) with the box just taken, and so on.
    Returns the decayed scores (K,); ordering by them (stable) keeps the first box first."""
    overlaps = box_iou(boxes.float(), boxes.float())
    decayed = scores.clone()
    waiting = torch.ones_like(scores, dtype=torch.bool)
    for _ in range(len(scores)):
        best = int(torch.where(waiting, decayed, torch.full_like(decayed, -torch.inf)).argmax())
        waiting[best] = False
        decay = torch.exp(-(overlaps[best].to(decayed.dtype) ** 2) / sigma)
        decayed = torch.where(waiting, decayed * decay, decayed)
    return decayed
