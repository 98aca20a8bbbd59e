"""The vision-language neck: flattens the multi-scale maps into tokens with positional and level
encodings, then fuses image and text with bidirectional cross-attention layers (image tokens
attend to the query's words and the words to the image), in the manner of Grounding DINO's
feature enhancer, without its image self-attention (the backbone's convolutions give context)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from difftracker.position_encoding import grid_positions, sine_embedding
from difftracker.text_encoder import TextFeatures
from difftracker.value_position import ValuePosition


def feed_forward(d_model: int, hidden: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_model, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, d_model)
    )


@dataclass
class VisualTokens:
    """Text-independent tokens of P pairs: features (P, N, d), positional encodings (N, d),
    normalised cell centres (N, 2) and each token's level (N,)."""

    features: torch.Tensor
    position: torch.Tensor
    centres: torch.Tensor
    level: torch.Tensor


class BidirectionalFusionLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, ffn_dim: int, dropout: float, position_in_values: bool | str = False):
        super().__init__()
        self.value_position = ValuePosition(position_in_values)
        self.image_to_text = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.text_to_image = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.image_ffn = feed_forward(d_model, ffn_dim, dropout)
        self.text_ffn = feed_forward(d_model, ffn_dim, dropout)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(4))

    def forward(
        self, image: torch.Tensor, position: torch.Tensor, text: torch.Tensor, text_padding: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        attended, _ = self.image_to_text(
            image + position, text, text, key_padding_mask=text_padding, need_weights=False
        )
        image = self.norms[0](image + attended)
        attended, _ = self.text_to_image(
            text, image + position, self.value_position(image, position), need_weights=False
        )
        text = self.norms[1](text + attended)
        image = self.norms[2](image + self.image_ffn(image))
        text = self.norms[3](text + self.text_ffn(text))
        return image, text


class WordOrder(nn.Module):
    """Learned word-position embeddings and text self-attention layers over the projected words, so
    what the neck reads depends on word order ("from red to blue" is not "from blue to red")."""

    def __init__(self, d_model: int, heads: int, ffn_dim: int, layers: int, max_tokens: int, dropout: float):
        super().__init__()
        self.position = nn.Parameter(torch.randn(max_tokens, d_model) * 0.02)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d_model, heads, ffn_dim, dropout, batch_first=True) for _ in range(layers)
        )

    def forward(self, words: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        words = words + self.position[: words.shape[1]]
        for layer in self.layers:
            words = layer(words, src_key_padding_mask=padding)
        return words


class VisionLanguageNeck(nn.Module):
    def __init__(
        self,
        text_dim: int,
        d_model: int,
        heads: int,
        ffn_dim: int,
        layers: int,
        levels: int,
        dropout: float,
        text_layers: int = 0,
        max_text_tokens: int = 40,
        position_in_values: bool | str = False,
    ):
        super().__init__()
        self.d_model = d_model
        self.text_projection = nn.Sequential(nn.Linear(text_dim, d_model), nn.LayerNorm(d_model))
        self.word_order = (
            WordOrder(d_model, heads, ffn_dim, text_layers, max_text_tokens, dropout) if text_layers else None
        )
        self.level_embedding = nn.Parameter(torch.randn(levels, d_model) * 0.02)
        self.layers = nn.ModuleList(
            BidirectionalFusionLayer(d_model, heads, ffn_dim, dropout, position_in_values) for _ in range(layers)
        )

    def tokens(self, maps: list[torch.Tensor]) -> VisualTokens:
        """Flatten (P, d, h, w) maps into (P, N, d) tokens with their encodings."""
        features, positions, centres, levels = [], [], [], []
        for level, feature_map in enumerate(maps):
            _, _, height, width = feature_map.shape
            features.append(feature_map.flatten(2).transpose(1, 2))
            grid = grid_positions(height, width, feature_map.device)
            positions.append(sine_embedding(grid, self.d_model // 2) + self.level_embedding[level])
            centres.append(grid)
            levels.append(torch.full((height * width,), level, device=feature_map.device, dtype=torch.long))
        return VisualTokens(torch.cat(features, 1), torch.cat(positions), torch.cat(centres), torch.cat(levels))

    def forward(
        self, visual: VisualTokens, pair_index: torch.Tensor, text: TextFeatures
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per query q: the tokens of its pair `pair_index[q]` fused with its words.
        Returns image memory (Q, N, d) and text memory (Q, T, d)."""
        image = visual.features.index_select(0, pair_index)
        words = self.text_projection(text.tokens)
        padding = ~text.mask
        if self.word_order is not None:
            words = self.word_order(words, padding)
        for layer in self.layers:
            image, words = layer(image, visual.position, words, padding)
        return image, words
