"""How the two images reach the neck: one `VisualEncoder` per fusion scheme, so the variants
share every other part of the code. It returns multi-scale maps of width d_model, one per neck
stride, in B's frame (the canvas scheme returns the whole [A | B] canvas; DiffTracker maps its
boxes back).
"""

from __future__ import annotations

import torch
from torch import nn

from difftracker.backbone import BackboneStages, build_backbone
from difftracker.config import DiffTrackerConfig
from difftracker.difference_enhancement import DifferenceEnhancement


def _projection(in_channels: int, d_model: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, d_model, 1), nn.GroupNorm(min(32, d_model // 4), d_model))


class VisualEncoder(nn.Module):
    def __init__(self, config: DiffTrackerConfig) -> None:
        super().__init__()
        self.config = config
        in_channels = 6 if config.fusion == "early" else 3
        self.backbone: BackboneStages = build_backbone(
            config.backbone, config.backbone_weights, config.image_size, in_channels
        )
        # channels-last runs the depthwise convolutions 2-3x faster on CPU (and suits tensor cores).
        self.backbone.to(memory_format=torch.channels_last)
        self.backbone.requires_grad_(config.train_backbone)
        if config.fusion == "early" and not config.train_backbone:
            self._stem().requires_grad_(True)  # the widened first conv is new: it must learn
        strides = [info.stride for info in self.backbone.info]
        missing = [s for s in config.neck_strides if s not in strides]
        if missing:
            raise ValueError(f"backbone {config.backbone} has no stage at stride(s) {missing}; it has {strides}")
        self.levels = [strides.index(s) for s in config.neck_strides]
        channels = [self.backbone.info[i].channels for i in self.levels]
        self.uses_difference_map = config.fusion == "siamese" and config.difference_map
        # late: [F_A ; F_B]. siamese: [F_B' ; D ; |D|] with D = F_B' - F_A' (B and the signed
        # difference carry A's content too: "the piece that went from green to blue" needs it).
        width = 2 if config.fusion == "late" else 3 if self.uses_difference_map else 1
        self.project = nn.ModuleList(_projection(width * c, config.d_model) for c in channels)
        self.dems = nn.ModuleDict()
        if config.fusion == "siamese" and config.dem != "none":
            last = len(self.backbone.info) - 1
            stages = range(last + 1) if config.dem_stages == "all" else [last]
            for i in stages:
                self.dems[str(i)] = DifferenceEnhancement(self.backbone.info[i].channels, config.dem)

    def _stem(self) -> nn.Module:
        first = self.backbone.stages[0]
        if self.config.backbone == "swin_t":
            return first.stage[0].proj
        return first[0]

    def frozen_backbone_keys(self) -> set[str]:
        """State-dict keys (relative to this module) of weights that stay as loaded: not checkpointed."""
        if self.config.train_backbone:
            return set()
        trainable = {name for name, p in self.backbone.named_parameters() if p.requires_grad}
        return {f"backbone.{k}" for k in self.backbone.state_dict(keep_vars=False) if k not in trainable}

    def train(self, mode: bool = True) -> VisualEncoder:
        super().train(mode)
        if not self.config.train_backbone:
            self.backbone.eval()  # frozen: no dropout / drop-path in the backbone either
        return self

    @property
    def frozen_stages(self) -> int:
        """How many leading backbone stages no trained parameter reaches: their outputs depend on the
        images alone and may be computed once and reused (`frozen_features`). With DEMs, the stages
        up to and including the first DEM's stage (the DEM itself acts on that stage's output)."""
        if self.config.train_backbone or self.config.fusion == "early":
            return 0
        if self.dems:
            return min(int(i) for i in self.dems) + 1
        return len(self.backbone.stages)

    def _backbone_input(self, image_a: torch.Tensor, image_b: torch.Tensor) -> torch.Tensor:
        fusion = self.config.fusion
        if fusion in ("siamese", "late"):
            return torch.cat((image_a, image_b))  # one shared-weight pass over [A; B]
        if fusion == "early":
            return torch.cat((image_a, image_b), dim=1)
        if fusion == "single":
            return image_b
        return torch.cat((image_a, image_b), dim=3)  # canvas: A on the left, B on the right

    @property
    def rows_per_pair(self) -> int:
        """Rows of the backbone's batch per pair: 2 ([A; B]) for siamese and late fusion, else 1."""
        return 2 if self.config.fusion in ("siamese", "late") else 1

    def frozen_features(self, image_a: torch.Tensor, image_b: torch.Tensor) -> dict[int, torch.Tensor]:
        """The outputs of the frozen stages that the rest of the forward reads: the last frozen
        stage's and those of the neck's levels among them. Rows as the backbone's batch: for
        siamese and late fusion all A images, then all B images."""
        image_a = image_a.contiguous(memory_format=torch.channels_last)
        image_b = image_b.contiguous(memory_format=torch.channels_last)
        x = self._backbone_input(image_a, image_b)
        count = self.frozen_stages
        keep = {count - 1} | {i for i in self.levels if i < count}
        outputs = {}
        for i in range(count):
            x = self.backbone.stages[i](x)
            if i in keep:
                outputs[i] = x
        return outputs

    def _run_stages(self, x: torch.Tensor, frozen: dict[int, torch.Tensor], pairs: int) -> tuple[dict, dict]:
        """Every stage's output per side (A, B), the frozen ones taken from `frozen`, with the DEMs."""
        count = self.frozen_stages
        outputs_a, outputs_b = {}, {}
        for i, stage in enumerate(self.backbone.stages):
            if i < count:
                if i not in frozen:
                    continue
                x = frozen[i]
            else:
                x = stage(x)
            fa, fb = x[:pairs], x[pairs:]
            if str(i) in self.dems:
                fa, fb = self.dems[str(i)](fa, fb)
                x = torch.cat((fa, fb))
            outputs_a[i], outputs_b[i] = fa, fb
        return outputs_a, outputs_b

    def forward(
        self, image_a: torch.Tensor, image_b: torch.Tensor, frozen: dict[int, torch.Tensor] | None = None
    ) -> list[torch.Tensor]:
        """(P, 3, S, S) A and B (normalised) -> one (P, d_model, h, w) map per neck stride.
        `frozen`: this batch's `frozen_features`, when the caller has them (a cache); the
        result is the same to the bit as computing them here."""
        fusion = self.config.fusion
        pairs = image_a.shape[0]
        if frozen is None:
            frozen = self.frozen_features(image_a, image_b)
        x = None
        if self.frozen_stages == 0:
            x = self._backbone_input(
                image_a.contiguous(memory_format=torch.channels_last),
                image_b.contiguous(memory_format=torch.channels_last),
            )
        if fusion in ("siamese", "late"):
            features_a, features_b = self._run_stages(x, frozen, pairs)
            levels = []
            for j, i in enumerate(self.levels):
                if fusion == "late":
                    levels.append(self.project[j](torch.cat((features_a[i], features_b[i]), dim=1)))
                    continue
                inputs = features_b[i]
                if self.uses_difference_map:
                    difference = features_b[i] - features_a[i]
                    inputs = torch.cat((inputs, difference, difference.abs()), dim=1)
                levels.append(self.project[j](inputs))
            return levels
        # early, single, canvas: one image batch through the backbone (no DEM).
        features, _ = self._run_stages(x, frozen, x.shape[0] if x is not None else pairs)
        return [self.project[j](features[i]) for j, i in enumerate(self.levels)]
