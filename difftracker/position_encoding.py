"""Sine positional encodings: for the visual tokens (their normalised x, y) and for decoder
queries (their reference box cx, cy, w, h), in the manner of DETR and DAB-DETR."""

from __future__ import annotations

import math

import torch


def sine_embedding(coords: torch.Tensor, dim_per_coord: int, temperature: float = 10000.0) -> torch.Tensor:
    """(..., K) coordinates in [0, 1] -> (..., K * dim_per_coord) interleaved sin/cos features."""
    if dim_per_coord % 2:
        raise ValueError(f"dim_per_coord must be even, got {dim_per_coord}")
    frequencies = torch.arange(dim_per_coord // 2, dtype=torch.float32, device=coords.device)
    frequencies = temperature ** (2 * frequencies / dim_per_coord)
    angles = coords.float().unsqueeze(-1) * (2 * math.pi) / frequencies
    embedded = torch.stack((angles.sin(), angles.cos()), dim=-1).flatten(-2)
    return embedded.flatten(-2)


def grid_positions(height: int, width: int, device: torch.device) -> torch.Tensor:
    """(H*W, 2) normalised (x, y) centres of a feature map's cells, row-major like `flatten(2)`."""
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((grid_x.flatten(), grid_y.flatten()), dim=-1)
