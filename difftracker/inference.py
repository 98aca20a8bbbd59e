"""Inference as the adapter and validation both run it: resize a pair to the model's input size,
encode it once, then decode each query on its own (so no answer depends on what else is batched)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from difftracker.model import DiffTracker, GroundingResult
from difftracker.neck import VisualTokens
from difftracker.text_encoder import TextEncoder, TextFeatures


def resize_pair(image_a: Image.Image, image_b: Image.Image, size: int) -> np.ndarray:
    """uint8 (2, 3, size, size): A and B (A already on B's grid) resized bilinearly to the model's input."""
    resized = [
        np.asarray(im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)) for im in (image_a, image_b)
    ]
    return np.ascontiguousarray(np.stack(resized).transpose(0, 3, 1, 2))


@torch.no_grad()
def encode_pair(model: DiffTracker, pair: np.ndarray, device: torch.device | str) -> VisualTokens:
    """The text-independent tokens of one pair (uint8 (2, 3, S, S) from `resize_pair`)."""
    images = torch.from_numpy(pair).to(device)
    return model.encode_pairs(images[0:1], images[1:2])


@torch.no_grad()
def ground_text(
    model: DiffTracker, visual: VisualTokens, text: TextFeatures, ranking: str | None = None
) -> GroundingResult:
    """Ranked boxes (K, 4) xyxy normalised to B and scores (K,) for one encoded query about one pair
    (`ranking`: difftracker/ranking.py; None: the model config's)."""
    device = visual.features.device
    output = model.decode(visual, torch.zeros(1, dtype=torch.long, device=device), text.to(device))
    grounded = model.ground(output, ranking)
    return GroundingResult(grounded.boxes[0].float().cpu(), grounded.scores[0].float().cpu())


@torch.no_grad()
def ground_queries(
    model: DiffTracker,
    pair: np.ndarray,
    queries: list[str] | list[TextFeatures],
    device: torch.device | str,
    text_encoder: TextEncoder | None = None,
) -> list[GroundingResult]:
    """Ranked normalised boxes for each query about one pair (uint8 (2, 3, S, S) from `resize_pair`).
    `queries` are strings (encoded one by one with `text_encoder`) or per-query TextFeatures."""
    visual = encode_pair(model, pair, device)
    results = []
    for query in queries:
        if not isinstance(query, TextFeatures):
            text_encoder = text_encoder or model.make_text_encoder().to(device)
            query = text_encoder([query])
        results.append(ground_text(model, visual, query))
    return results
