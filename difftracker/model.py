"""DiffTracker: visual encoder (Siamese backbone + DEMs, or a control's fusion) -> vision-language
neck -> box decoder. Boxes come out normalised cxcywh in image B's frame for every variant."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from difftracker.box_ops import canvas_to_b_frame, cxcywh_to_xyxy
from difftracker.change_heads import ChangeHeads
from difftracker.config import DiffTrackerConfig
from difftracker.decoder import BoxDecoder, DecoderOutput
from difftracker.neck import VisionLanguageNeck, VisualTokens
from difftracker.ranking import ranking_scores, suppress_duplicates
from difftracker.text_encoder import TextEncoder, TextFeatures, text_encoder_dim

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class GroundingResult:
    """Final-layer answers for Q queries: boxes (Q, K, 4) xyxy normalised to B, clipped to [0, 1],
    and scores (Q, K) in [0, 1], both sorted best first."""

    boxes: torch.Tensor
    scores: torch.Tensor


class DiffTracker(nn.Module):
    """A trainable text encoder is a submodule (trained and checkpointed with the rest); a frozen one
    is not: callers encode queries with `make_text_encoder()` (or reuse cached features)."""

    def __init__(self, config: DiffTrackerConfig) -> None:
        super().__init__()
        from difftracker.visual_encoder import VisualEncoder

        self.config = config
        self.visual = VisualEncoder(config)
        self.text_encoder: TextEncoder | None = None  # set only when trained with the model
        if config.train_text_encoder:
            self.text_encoder = TextEncoder(config.text_encoder, True, config.max_text_tokens)
        self.neck = VisionLanguageNeck(
            text_encoder_dim(config.text_encoder),
            config.d_model,
            config.heads,
            config.ffn_dim,
            config.neck_layers,
            len(config.neck_strides),
            config.dropout,
            config.text_layers,
            config.max_text_tokens,
            config.position_in_values,
        )
        self.decoder = BoxDecoder(
            config.d_model,
            config.heads,
            config.ffn_dim,
            config.decoder_layers,
            config.num_queries,
            config.dropout,
            config.position_in_values,
        )
        self.change_heads = ChangeHeads(config.d_model, config.change_heads) if config.change_heads else None
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def make_text_encoder(self) -> TextEncoder:
        if self.text_encoder is not None:
            return self.text_encoder
        return TextEncoder(self.config.text_encoder, self.config.train_text_encoder, self.config.max_text_tokens)

    # ---- checkpoints: what training changed, without the frozen pretrained parts ----
    def frozen_keys(self) -> set[str]:
        """State-dict keys restored from the pretrained source (the frozen backbone)."""
        return {f"visual.{k}" for k in self.visual.frozen_backbone_keys()}

    def trained_state_dict(self) -> dict[str, torch.Tensor]:
        frozen = self.frozen_keys()
        return {k: v.contiguous() for k, v in self.state_dict().items() if k not in frozen}

    def load_trained_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load a `trained_state_dict`; every trained key must be there, and nothing else."""
        missing, unexpected = self.load_state_dict(state, strict=False)
        frozen = self.frozen_keys()
        missing = [k for k in missing if k not in frozen]
        if missing or unexpected:
            raise RuntimeError(
                f"DiffTracker checkpoint does not fit this config: missing {missing[:5]} ({len(missing)}), "
                f"unexpected {unexpected[:5]} ({len(unexpected)})"
            )

    # ---- forward ----
    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (0-255) or float in [0, 1] (P, 3, S, S) -> ImageNet-normalised float."""
        images = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
        return (images - self.pixel_mean) / self.pixel_std

    def frozen_features(self, images_a: torch.Tensor, images_b: torch.Tensor) -> dict[int, torch.Tensor]:
        """What the frozen backbone stages give for these pairs (see `VisualEncoder.frozen_features`):
        the same in every epoch, so training may cache it (difftracker/feature_cache.py)."""
        return self.visual.frozen_features(self.normalise(images_a), self.normalise(images_b))

    def encode_pairs(
        self, images_a: torch.Tensor, images_b: torch.Tensor, frozen: dict[int, torch.Tensor] | None = None
    ) -> VisualTokens:
        """The text-independent part: once per pair, shared by all of the pair's queries."""
        maps = self.visual(self.normalise(images_a), self.normalise(images_b), frozen)
        return self.neck.tokens(maps)

    def decode(self, visual: VisualTokens, pair_index: torch.Tensor, text: TextFeatures) -> DecoderOutput:
        memory, words = self.neck(visual, pair_index, text)
        output = self.decoder(memory, visual, words, text)
        if self.config.fusion == "canvas":
            output.boxes = canvas_to_b_frame(output.boxes)
            output.token_boxes = canvas_to_b_frame(output.token_boxes)
            output.token_centres = canvas_to_b_frame(
                torch.cat((output.token_centres, torch.zeros_like(output.token_centres)), dim=-1)
            )[:, :2]
        return output

    def forward(
        self,
        images_a: torch.Tensor,
        images_b: torch.Tensor,
        text: TextFeatures,
        pair_index: torch.Tensor,
        frozen: dict[int, torch.Tensor] | None = None,
    ) -> DecoderOutput:
        """P pairs of (P, 3, S, S) images and Q queries: query q asks about pair `pair_index[q]`.
        With change heads, the output also carries their logits on the pairs' image tokens.
        `frozen`: the pairs' `frozen_features`, when the caller has cached them."""
        visual = self.encode_pairs(images_a, images_b, frozen)
        output = self.decode(visual, pair_index, text)
        if self.change_heads is not None:
            output.change_logits = self.change_heads(visual.features)
        return output

    def ground(self, output: DecoderOutput, ranking: str | None = None) -> GroundingResult:
        """The last decoder layer's boxes, best first by `ranking` (difftracker/ranking.py; default:
        the config's)."""
        ranking = ranking or self.config.ranking
        boxes = cxcywh_to_xyxy(output.boxes[-1]).clamp(0.0, 1.0)
        scores = ranking_scores(
            ranking,
            boxes,
            output.referring_logits[-1],
            output.token_centres,
            output.token_referring_logits,
        )
        if ranking != "decoder":  # the token head is not one-to-one
            scores = torch.stack([suppress_duplicates(b, s) for b, s in zip(boxes, scores, strict=True)])
        order = scores.argsort(dim=1, descending=True, stable=True)
        return GroundingResult(boxes.gather(1, order.unsqueeze(-1).expand(-1, -1, 4)), scores.gather(1, order))
