"""The Difference Enhancement Module (DEM): after a backbone stage, emphasise what differs between
the two images' feature maps and suppress what they share, before the next stage sees them.

For the feature maps F_A, F_B (C x H x W) of one stage, each side X with the other side Y:

    D_X   = F_X - F_Y                                       signed difference, seen from X
    G_X   = sigmoid(phi_d([|D_X| ; D_X]))                   difference gate (C x H x W)
    s     = cos(F_X, F_Y)                                   per-pixel similarity over channels (1 x H x W)
    K     = sigmoid(phi_c([F_X * F_Y ; s]))                 common gate, symmetric in X and Y
    F_X'  = F_X * (1 + alpha * G_X - beta * K) + gamma * psi(|D_X|)

phi_d, phi_c are 1x1 conv -> ReLU -> 1x1 conv bottlenecks, psi a 1x1 conv; alpha, beta, gamma are
per-channel scales that start at zero, so an untrained DEM is the identity and the pretrained
backbone's features pass through unchanged. The difference branch (alpha, gamma) lifts and injects
what differs; the common branch (beta) damps what both images share. `mode="diff-only"` drops the
common branch (an ablation); the same weights serve A and B (shared, like the backbone).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _bottleneck(in_channels: int, out_channels: int) -> nn.Sequential:
    hidden = max(out_channels // 4, 16)
    return nn.Sequential(nn.Conv2d(in_channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, out_channels, 1))


class DifferenceEnhancement(nn.Module):
    def __init__(self, channels: int, mode: str = "full") -> None:
        super().__init__()
        if mode not in ("full", "diff-only"):
            raise ValueError(f"DifferenceEnhancement mode must be 'full' or 'diff-only', got {mode!r}")
        self.mode = mode
        self.difference_gate = _bottleneck(2 * channels, channels)
        self.difference_inject = nn.Conv2d(channels, channels, 1)
        self.alpha = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))
        if mode == "full":
            self.common_gate = _bottleneck(channels + 1, channels)
            self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def enhance(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """F_X' for side X = `x` against the other side `y` (equations in the module docstring)."""
        difference = x - y
        magnitude = difference.abs()
        gain = 1 + self.alpha * torch.sigmoid(self.difference_gate(torch.cat((magnitude, difference), dim=1)))
        if self.mode == "full":
            similarity = F.cosine_similarity(x, y, dim=1, eps=1e-6).unsqueeze(1)
            gain = gain - self.beta * torch.sigmoid(self.common_gate(torch.cat((x * y, similarity), dim=1)))
        return x * gain + self.gamma * self.difference_inject(magnitude)

    def forward(self, features_a: torch.Tensor, features_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # One call over both sides: [A; B] against [B; A] halves the number of small conv launches.
        both = self.enhance(torch.cat((features_a, features_b)), torch.cat((features_b, features_a)))
        return both.chunk(2)
