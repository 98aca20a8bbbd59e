"""Inference as the adapter and validation both run it: resize a pair to the model's input size,
encode it once, then decode each query on its own (so no answer depends on what else is batched)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from difftracker.model import DiffTracker, GroundingResult
from difftracker.text_encoder import TextEncoder, TextFeatures


def resize_pair(image_a: Image.Image, image_b: Image.Image, size: int) -> np.ndarray:
    """uint8 (2, 3, size, size): A and B (A already on B's grid) resized bilinearly to the model's input."""
    resized = [np.asarray(im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)) for im in (image_a, image_b)]
    return np.ascontiguousarray(np.stack(resized).transpose(0, 3, 1, 2))


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
    images = torch.from_numpy(pair).to(device)
    visual = model.encode_pairs(images[0:1], images[1:2])
    results = []
    for query in queries:
        text = query if isinstance(query, TextFeatures) else (text_encoder or model.make_text_encoder())([query])
        output = model.decode(visual, torch.zeros(1, dtype=torch.long, device=images.device), text.to(device))
        grounded = model.ground(output)
        results.append(GroundingResult(grounded.boxes[0].float().cpu(), grounded.scores[0].float().cpu()))
    return results
