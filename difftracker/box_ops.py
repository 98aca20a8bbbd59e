"""Box conversions for DiffTracker. Boxes are normalised to image B: cxcywh inside the model (what
the heads regress), xyxy for IoU. IoU and GIoU themselves come from torchvision.ops."""

from __future__ import annotations

import torch


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)


def inverse_sigmoid(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """logit(x) with x clamped away from 0 and 1 (box refinement works in logit space)."""
    x = x.clamp(min=0.0, max=1.0)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))


def canvas_to_b_frame(boxes: torch.Tensor) -> torch.Tensor:
    """cxcywh boxes on an [A | B] side-by-side canvas -> cxcywh in B's frame (B is the right half)."""
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((2 * cx - 1, cy, 2 * w, h), dim=-1)
