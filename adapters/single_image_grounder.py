"""What a single-image visual grounder is to the IDG modes: (image, text) -> scored boxes in pixels.

Grounding DINO, MM-Grounding-DINO, OWLv2 and the official Grounding DINO each implement this
protocol; `adapters/grounder_modes.py` turns any of them into IDG adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from PIL import Image


@dataclass
class Candidates:
    """A grounder's boxes for one image: xyxy absolute pixels of that image, best score first."""

    boxes: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Candidates:
        return cls(np.zeros((0, 4)), np.zeros(0))


class SingleImageGrounder(Protocol):
    def ground(self, images: list[Image.Image], texts: list[str]) -> list[Candidates]:
        """One Candidates per (image, text), in order, independent of the other pairs in the call."""
        ...

    def num_parameters(self) -> int: ...


def candidates_from_normalized(
    boxes_cxcywh: torch.Tensor,
    scores: torch.Tensor,
    frame: tuple[float, float],
    size: tuple[int, int],
    limit: int,
    threshold: float,
) -> Candidates:
    """Rank DETR-style outputs into pixel boxes.

    boxes_cxcywh: (Q, 4) in [0, 1] of a frame `frame` = (width, height) pixels whose top-left is the
    image's (the image itself, or a square it was padded into at the bottom/right); `size` is the
    image's (width, height), to which boxes are clipped. Keeps scores >= threshold, best `limit`.
    """
    boxes = boxes_cxcywh.detach().float().cpu().numpy().astype(np.float64).reshape(-1, 4)
    scores_np = scores.detach().float().cpu().numpy().astype(np.float64).reshape(-1)
    frame_w, frame_h = frame
    cx, cy, w, h = boxes.T
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) * [frame_w, frame_h, frame_w, frame_h]
    width, height = size
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0.0, width)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0.0, height)
    # A box with negative width/height from an untrained head is flipped into xyxy order.
    xyxy = np.concatenate([np.minimum(xyxy[:, :2], xyxy[:, 2:]), np.maximum(xyxy[:, :2], xyxy[:, 2:])], axis=1)
    finite = np.isfinite(xyxy).all(axis=1) & np.isfinite(scores_np) & (scores_np >= threshold)
    xyxy, scores_np = xyxy[finite], scores_np[finite]
    order = np.argsort(-scores_np, kind="stable")[: max(limit, 0)]
    return Candidates(xyxy[order], scores_np[order])
