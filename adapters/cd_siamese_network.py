"""The `cd-siamese` change-detection network: FC-Siam-diff (Daudt et al., 2018), small enough for a CPU.

One convolutional encoder runs on A and on B with shared weights; each stage's features are fused
as |F_A - F_B|, and a U-Net decoder with those differences as skips returns one change logit per
input pixel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn


@dataclass(frozen=True)
class NetworkConfig:
    """The architecture: encoder widths per stage (each stage halves the resolution)."""

    channels: tuple[int, ...] = (16, 32, 64, 96)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if not self.channels or min(self.channels) < 1:
            raise ValueError(f"channels must be a non-empty list of positive widths, got {self.channels}")

    @property
    def stride(self) -> int:
        """Input sides must be multiples of this (the encoder halves them once per stage)."""
        return 2 ** len(self.channels)

    def to_dict(self) -> dict:
        return {"channels": list(self.channels)}

    @classmethod
    def from_dict(cls, data: dict) -> NetworkConfig:
        known = set(asdict(cls()))
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown network option(s) {unknown}; known: {sorted(known)}")
        return cls(**data)


def conv_block(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    """Two 3x3 convolutions with batch norm and ReLU; the first one may downsample."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class SiameseDiffNet(nn.Module):
    """FC-Siam-diff: shared encoder, |F_A - F_B| per stage, U-Net decoder to a 1-channel change logit.

    Input: two (N, 3, H, W) images normalised to about zero mean, H and W multiples of
    `config.stride`. Output: (N, 1, H, W) logits.
    """

    def __init__(self, config: NetworkConfig | None = None) -> None:
        super().__init__()
        self.config = config or NetworkConfig()
        widths = self.config.channels
        self.encoder = nn.ModuleList(
            conv_block(c_in, c_out, stride=2) for c_in, c_out in zip((3, *widths[:-1]), widths, strict=True)
        )
        # Decoder stage i merges the upsampled deeper features with the difference of encoder stage i.
        self.decoder = nn.ModuleList(
            conv_block(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(len(widths) - 1))
        )
        # The head sees the raw |A - B| at full resolution too: encoder features are at half
        # resolution at best, and small changes need their exact edges.
        self.head = nn.Sequential(
            nn.Conv2d(widths[0] + 3, widths[0], 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(widths[0], 1, 1),
        )

    def encode(self, image: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage in self.encoder:
            image = stage(image)
            features.append(image)
        return features

    def forward(self, image_a: torch.Tensor, image_b: torch.Tensor) -> torch.Tensor:
        # One encoder pass over A and B stacked: the weights are shared by construction.
        both = self.encode(torch.cat([image_a, image_b], dim=0))
        n = image_a.shape[0]
        diffs = [(f[:n] - f[n:]).abs() for f in both]
        x = diffs[-1]
        for stage, skip in zip(self.decoder, reversed(diffs[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = stage(torch.cat([x, skip], dim=1))
        x = F.interpolate(x, size=image_a.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(torch.cat([x, (image_a - image_b).abs()], dim=1))


# ImageNet statistics: a fixed, documented normalisation (the network is trained from scratch).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def image_tensor(image: Image.Image, size: int) -> torch.Tensor:
    """(3, size, size) normalised float tensor of an RGB image resized (bilinear) to a square."""
    resized = image.resize((size, size), Image.Resampling.BILINEAR) if image.size != (size, size) else image
    return normalise(torch.from_numpy(np.asarray(resized, dtype=np.uint8).copy()).permute(2, 0, 1))


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (..., 3, H, W) -> float, normalised per channel."""
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return (images.float() / 255.0 - mean) / std


@torch.no_grad()
def change_probability(
    model: SiameseDiffNet, image_a: Image.Image, image_b: Image.Image, size: int, device: str = "cpu"
) -> np.ndarray:
    """(H, W) float32 change probability in B's frame: run at `size` x `size`, upsample bilinearly.

    The training validation and the adapter both call this, so the recorded val score is what
    the adapter reproduces.
    """
    a = image_tensor(image_a, size).unsqueeze(0).to(device)
    b = image_tensor(image_b, size).unsqueeze(0).to(device)
    logits = model(a, b)
    width, height = image_b.size
    logits = F.interpolate(logits.float(), size=(height, width), mode="bilinear", align_corners=False)
    return torch.sigmoid(logits)[0, 0].cpu().numpy().astype(np.float32)


__all__ = ["NetworkConfig", "SiameseDiffNet", "change_probability", "conv_block", "image_tensor", "normalise"]
