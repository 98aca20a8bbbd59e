"""The referring loss's positives: the matched slot only, or every near-duplicate of the referred box."""

from __future__ import annotations

import pytest
import torch
from torchvision.ops import box_iou

from difftracker.box_ops import cxcywh_to_xyxy
from difftracker.decoder import DecoderOutput
from difftracker.losses import GroundingTargets, LossWeights, grounding_loss, referring_targets


def _cxcywh(x1: float, y1: float, x2: float, y2: float) -> list[float]:
    return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]


# One query about a pair with two differences; the query means difference 0.
TARGETS = GroundingTargets(
    boxes=[torch.tensor([_cxcywh(0.1, 0.1, 0.3, 0.3), _cxcywh(0.6, 0.6, 0.9, 0.9)])], referred=[0]
)
# Four slots: the referred box, a near-duplicate of it (IoU 0.9), a box on the other
# difference, and a box on nothing.
SLOTS = torch.tensor(
    [
        [
            _cxcywh(0.1, 0.1, 0.3, 0.3),
            _cxcywh(0.1, 0.1, 0.28, 0.3),
            _cxcywh(0.6, 0.6, 0.9, 0.9),
            _cxcywh(0.4, 0.0, 0.5, 0.1),
        ]
    ]
)
MATCHES = [(torch.tensor([0, 2]), torch.tensor([0, 1]))]  # slot 0 -> difference 0, slot 2 -> difference 1


def test_matched_slot_only_by_default() -> None:
    assert referring_targets(SLOTS, MATCHES, TARGETS, iou=0.0).tolist() == [[1.0, 0.0, 0.0, 0.0]]


def test_iou_positives_take_the_duplicates_and_nothing_else() -> None:
    iou = torch.tensor(0.18 * 0.2 / (0.2 * 0.2))  # the duplicate's IoU with the referred box: 0.9
    assert torch.isclose(torchvision_iou(SLOTS[0, 1], TARGETS.boxes[0][0]), iou, atol=1e-6), (
        "the hand-built duplicate must overlap as computed"
    )
    assert referring_targets(SLOTS, MATCHES, TARGETS, iou=0.5).tolist() == [[1.0, 1.0, 0.0, 0.0]]
    # A threshold above the duplicate's overlap keeps only the exact copy.
    assert referring_targets(SLOTS, MATCHES, TARGETS, iou=0.95).tolist() == [[1.0, 0.0, 0.0, 0.0]]


def torchvision_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return box_iou(cxcywh_to_xyxy(a.reshape(1, 4)), cxcywh_to_xyxy(b.reshape(1, 4)))[0, 0]


def _output(referring: torch.Tensor) -> DecoderOutput:
    layers, q, k = 2, 1, SLOTS.shape[1]
    tokens = 6
    return DecoderOutput(
        boxes=SLOTS.expand(layers, q, k, 4).clone(),
        difference_logits=torch.zeros(layers, q, k),
        referring_logits=referring,
        token_boxes=torch.rand(q, tokens, 4) * 0.5 + 0.25,
        token_difference_logits=torch.zeros(q, tokens),
        token_referring_logits=torch.zeros(q, tokens),
        token_centres=torch.rand(tokens, 2),
    )


def test_gradient_reaches_duplicates_as_positives() -> None:
    """With IoU positives the loss pushes the duplicate's referring logit up, not down."""
    grads = {}
    for iou in (0.0, 0.5):
        referring = torch.zeros(2, 1, SLOTS.shape[1], requires_grad=True)
        total, parts = grounding_loss(_output(referring), TARGETS, LossWeights(referring_positive_iou=iou))
        total.backward()
        assert torch.isfinite(total) and "referring" in parts
        grads[iou] = referring.grad[-1, 0]
    assert grads[0.0][1] > 0  # a negative: gradient descent lowers its logit
    assert grads[0.5][1] < 0  # a positive: gradient descent raises it
    assert grads[0.5][2] > 0 and grads[0.5][3] > 0  # the other difference and the empty box stay negatives


def test_per_positive_normalisation_divides_by_the_positives() -> None:
    """Two positives (the matched slot and its duplicate) on one query: the per-positive term is the
    per-query term halved; with only the matched slot positive the two agree."""
    referring = torch.linspace(-1.0, 1.0, 2 * SLOTS.shape[1]).reshape(2, 1, SLOTS.shape[1])
    parts = {}
    for iou, per_positive in ((0.5, False), (0.5, True), (0.0, False), (0.0, True)):
        weights = LossWeights(referring_positive_iou=iou, referring_per_positive=per_positive)
        parts[iou, per_positive] = grounding_loss(_output(referring.clone()), TARGETS, weights)[1]["referring"]
    assert parts[0.5, True] == pytest.approx(parts[0.5, False] / 2, rel=1e-6)
    assert parts[0.0, True] == pytest.approx(parts[0.0, False], rel=1e-6)
