"""The box decoder: language-guided query selection from the fused image tokens (two-stage, as in
Grounding DINO / DINO), then a transformer decoder whose layers refine each query's reference box.

Every token proposes a box around its cell, a difference logit (is it on any difference?) and a
referring logit (is it on the difference the query means?, its alignment with the words); the
`num_queries` tokens with the highest sum of the two seed the decoder's reference boxes. Each decoder layer: self-attention among the
queries, cross-attention to the words, cross-attention to the image tokens, FFN; then a box delta
(in logit space, as in Deformable DETR), a class-agnostic difference logit and a text-conditioned
"this is the one the query means" logit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from difftracker.box_ops import inverse_sigmoid
from difftracker.neck import VisualTokens, feed_forward
from difftracker.position_encoding import sine_embedding
from difftracker.text_encoder import TextFeatures
from difftracker.value_position import ValuePosition


class MLP(nn.Module):
    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int) -> None:
        super().__init__()
        dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


@dataclass
class DecoderOutput:
    """Per decoder layer l: boxes (L, Q, K, 4) cxcywh, difference logits (L, Q, K) and referring
    logits (L, Q, K); per image token n: its proposal box (Q, N, 4), difference and referring
    logits (Q, N), and the cell centre (N, 2) it sits on (for the dense token losses). With change
    heads, `change_logits` holds their per-pair token logits {name: (P, N, classes)}."""

    boxes: torch.Tensor
    difference_logits: torch.Tensor
    referring_logits: torch.Tensor
    token_boxes: torch.Tensor
    token_difference_logits: torch.Tensor
    token_referring_logits: torch.Tensor
    token_centres: torch.Tensor
    change_logits: dict[str, torch.Tensor] | None = None


class ReferringScore(nn.Module):
    """Text-conditioned score: a query's embedding against the mean of the fused words."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.query = nn.Linear(d_model, d_model)
        self.text = nn.Linear(d_model, d_model)
        self.bias = nn.Parameter(torch.tensor(-math.log((1 - 0.01) / 0.01)))
        self.scale = 1 / math.sqrt(d_model)

    def forward(self, queries: torch.Tensor, words: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        weights = mask.unsqueeze(-1).float()
        sentence = (words * weights).sum(1) / weights.sum(1).clamp(min=1)
        return torch.einsum("qkd,qd->qk", self.query(queries), self.text(sentence)) * self.scale + self.bias


class DecoderLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, ffn_dim: int, dropout: float, position_in_values: bool | str = False):
        super().__init__()
        self.value_position = ValuePosition(position_in_values)
        self.self_attention = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.text_attention = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.image_attention = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.ffn = feed_forward(d_model, ffn_dim, dropout)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(4))

    def forward(self, queries, query_position, words, word_padding, memory, memory_position):
        q = queries + query_position
        queries = self.norms[0](queries + self.self_attention(q, q, queries, need_weights=False)[0])
        attended = self.text_attention(
            queries + query_position, words, words, key_padding_mask=word_padding, need_weights=False
        )[0]
        queries = self.norms[1](queries + attended)
        keys = memory + memory_position
        values = self.value_position(memory, memory_position)
        attended = self.image_attention(queries + query_position, keys, values, need_weights=False)[0]
        queries = self.norms[2](queries + attended)
        return self.norms[3](queries + self.ffn(queries))


def _prior_bias(probability: float = 0.01) -> float:
    return -math.log((1 - probability) / probability)


class BoxDecoder(nn.Module):
    def __init__(
        self,
        d_model: int,
        heads: int,
        ffn_dim: int,
        layers: int,
        num_queries: int,
        dropout: float,
        position_in_values: bool | str = False,
    ):
        super().__init__()
        self.num_queries = num_queries
        self.proposal_norm = nn.Sequential(nn.Linear(d_model, d_model), nn.LayerNorm(d_model))
        self.proposal_box = MLP(d_model, d_model, 4, 3)
        self.proposal_score = nn.Linear(d_model, 1)
        self.proposal_referring = ReferringScore(d_model)
        self.query_content = nn.Embedding(num_queries, d_model)
        self.query_position = MLP(2 * d_model, d_model, d_model, 2)
        self.layers = nn.ModuleList(
            DecoderLayer(d_model, heads, ffn_dim, dropout, position_in_values) for _ in range(layers)
        )
        self.box_delta = nn.ModuleList(MLP(d_model, d_model, 4, 3) for _ in range(layers))
        self.difference_score = nn.ModuleList(nn.Linear(d_model, 1) for _ in range(layers))
        self.referring_score = nn.ModuleList(ReferringScore(d_model) for _ in range(layers))
        # With position_in_values the referring score also sees the box's geometry.
        self.referring_position = nn.ModuleList(ValuePosition(position_in_values) for _ in range(layers))
        self.d_model = d_model
        for head in [self.proposal_score, *self.difference_score]:
            nn.init.constant_(head.bias, _prior_bias())
        for mlp in [self.proposal_box, *self.box_delta]:
            nn.init.zeros_(mlp.layers[-1].weight)
            nn.init.zeros_(mlp.layers[-1].bias)

    def proposals(
        self, memory: torch.Tensor, visual: VisualTokens, words: torch.Tensor, text: TextFeatures
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every token's box (Q, N, 4), refined from an anchor at its cell, its difference logit
        and its referring logit (Q, N). The head sees the token's position: "the change on the left"."""
        side = 0.05 * (2.0 ** visual.level.float()).unsqueeze(-1)
        anchors = torch.cat((visual.centres, side, side), dim=-1)
        hidden = self.proposal_norm(memory + visual.position)
        boxes = torch.sigmoid(self.proposal_box(hidden) + inverse_sigmoid(anchors))
        referring = self.proposal_referring(hidden, words, text.mask)
        return boxes, self.proposal_score(hidden).squeeze(-1), referring

    def forward(
        self, memory: torch.Tensor, visual: VisualTokens, words: torch.Tensor, text: TextFeatures
    ) -> DecoderOutput:
        boxes, difference_scores, referring_scores = self.proposals(memory, visual, words, text)
        k = min(self.num_queries, boxes.shape[1])
        top = (difference_scores + referring_scores).detach().topk(k, dim=1).indices
        reference = boxes.gather(1, top.unsqueeze(-1).expand(-1, -1, 4)).detach()
        queries = self.query_content.weight[:k].unsqueeze(0).expand(memory.shape[0], -1, -1)
        padding = ~text.mask
        all_boxes, difference, referring = [], [], []
        for i, layer in enumerate(self.layers):
            position = self.query_position(sine_embedding(reference, self.d_model // 2))
            queries = layer(queries, position, words, padding, memory, visual.position)
            refined = torch.sigmoid(self.box_delta[i](queries) + inverse_sigmoid(reference))
            all_boxes.append(refined)
            difference.append(self.difference_score[i](queries).squeeze(-1))
            scored = self.referring_position[i](queries, position)
            referring.append(self.referring_score[i](scored, words, text.mask))
            reference = refined.detach()
        return DecoderOutput(
            boxes=torch.stack(all_boxes),
            difference_logits=torch.stack(difference),
            referring_logits=torch.stack(referring),
            token_boxes=boxes,
            token_difference_logits=difference_scores,
            token_referring_logits=referring_scores,
            token_centres=visual.centres,
        )
