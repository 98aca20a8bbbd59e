"""DiffTracker can fit one small batch: the top box of every query ends with IoU > 0.9."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.ops import box_iou

from difftracker.box_ops import cxcywh_to_xyxy
from difftracker.losses import GroundingTargets, grounding_loss
from difftracker.model import DiffTracker
from tests.difftracker.conftest import tiny_config


def _batch(size: int = 64):
    """Two pairs: in each, one square disappears and another appears; one query for each."""
    a = torch.full((2, 3, size, size), 60, dtype=torch.uint8)
    a[1] = 120
    b = a.clone()
    boxes = torch.tensor(
        [[[0.25, 0.25, 0.25, 0.25], [0.7, 0.65, 0.3, 0.3]], [[0.65, 0.3, 0.3, 0.25], [0.3, 0.75, 0.25, 0.3]]]
    )
    for p in range(2):
        x0, y0, x1, y1 = (cxcywh_to_xyxy(boxes[p]) * size).round().int().tolist()[0]
        a[p, 0, y0:y1, x0:x1] = 250  # removed from B
        x0, y0, x1, y1 = (cxcywh_to_xyxy(boxes[p]) * size).round().int().tolist()[1]
        b[p, 1, y0:y1, x0:x1] = 250  # added in B
    queries = ["the red thing that was removed", "the green thing that appeared"] * 2
    pair_index = torch.tensor([0, 0, 1, 1])
    targets = GroundingTargets([boxes[0], boxes[0], boxes[1], boxes[1]], [0, 1, 0, 1])
    return a, b, queries, pair_index, targets


@pytest.mark.slow
def test_overfits_one_batch(tiny_text_encoder: Path) -> None:
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = DiffTracker(tiny_config(tiny_text_encoder, dropout=0.0)).train()
        a, b, queries, pair_index, targets = _batch()
        text = model.make_text_encoder()(queries)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
        for _ in range(300):
            loss, _ = grounding_loss(model(a, b, text, pair_index), targets)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        model.eval()
        with torch.no_grad():
            result = model.ground(model(a, b, text, pair_index))
    finally:
        torch.set_num_threads(threads)
    wanted = torch.stack([cxcywh_to_xyxy(boxes[r]) for boxes, r in zip(targets.boxes, targets.referred, strict=True)])
    ious = box_iou(result.boxes[:, 0], wanted).diagonal()
    assert bool((ious > 0.9).all()), ious
