"""Tiny randomly initialised grounders saved to disk, to test each adapter's real loading path.

Each builder writes what a user would point `weights` at (a Hugging Face model directory, or an
official `.pth` + python config + text-encoder directory) and returns the adapter options.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch

TINY_SHORT_SIDE = 96


def _tiny_swin():
    from transformers import SwinConfig

    return SwinConfig(
        embed_dim=24,
        depths=[1, 1, 1, 1],
        num_heads=[1, 1, 1, 1],
        window_size=4,
        image_size=TINY_SHORT_SIDE,
        out_features=["stage2", "stage3", "stage4"],
    )


def tiny_bert_config(max_positions: int = 64):
    from transformers import BertConfig

    # vocab_size stays bert-base-uncased's: Grounding DINO hard-codes its special-token ids.
    return BertConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=max_positions,
    )


def save_tiny_hf_grounding_dino(directory: Path, mm: bool = False, with_tokenizer: bool = False) -> dict[str, Any]:
    """A tiny (MM-)Grounding DINO saved with `save_pretrained`, plus its image processor."""
    from transformers import (
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        MMGroundingDinoConfig,
        MMGroundingDinoForObjectDetection,
    )

    config_class, model_class = (
        (MMGroundingDinoConfig, MMGroundingDinoForObjectDetection)
        if mm
        else (GroundingDinoConfig, GroundingDinoForObjectDetection)
    )
    config = config_class(
        backbone_config=_tiny_swin(),
        text_config=tiny_bert_config(),
        d_model=32,
        encoder_layers=1,
        decoder_layers=2,  # with 1 layer the box-head weights fail to tie
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        num_queries=30,
        max_text_len=64,
    )
    torch.manual_seed(0)
    model_class(config).eval().save_pretrained(directory)
    longest = 2 * TINY_SHORT_SIDE
    GroundingDinoImageProcessor(size={"shortest_edge": TINY_SHORT_SIDE, "longest_edge": longest}).save_pretrained(
        directory
    )
    if with_tokenizer:
        from idg_adapters.grounding_text import bert_tokenizer

        bert_tokenizer(directory).save_pretrained(directory)
    return {"weights": str(directory)}


def _clip_byte_vocab(directory: Path) -> tuple[int, int, int]:
    """A CLIP BPE vocabulary with every byte and no merges (each word is spelt out): no hub needed.

    Returns (vocab size, start token id, end token id).
    """
    from transformers.models.clip.tokenization_clip import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(tokens)}
    (directory / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (directory / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return len(vocab), vocab["<|startoftext|>"], vocab["<|endoftext|>"]


def save_tiny_owlv2(directory: Path, image_size: int = 64) -> dict[str, Any]:
    """A tiny OWLv2 with its processor (square-padding image processor + byte-level CLIP tokenizer)."""
    from transformers import (
        CLIPTokenizer,
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2ImageProcessor,
        Owlv2Processor,
    )

    directory.mkdir(parents=True, exist_ok=True)
    vocab_size, bos, eos = _clip_byte_vocab(directory)
    tokenizer = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), pad_token="!")
    text = {
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "max_position_embeddings": 16,
        "bos_token_id": bos,
        "eos_token_id": eos,
    }
    vision = {
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": image_size,
        "patch_size": 16,
    }
    config = Owlv2Config(text_config=text, vision_config=vision, projection_dim=32)
    torch.manual_seed(0)
    Owlv2ForObjectDetection(config).eval().save_pretrained(directory)
    image_processor = Owlv2ImageProcessor(size={"height": image_size, "width": image_size})
    Owlv2Processor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(directory)
    return {"weights": str(directory)}


# Shrinks of the packaged SwinT config that keep its structure (Swin-T backbone, 4 feature levels,
# text enhancer, fusion, two-stage decoder) but make it run in well under a second at 64 px.
OFFICIAL_TINY_OVERRIDES = {
    "enc_layers": 1,
    "dec_layers": 2,
    "dim_feedforward": 32,
    "hidden_dim": 256,  # 256 is hard-coded in parts of groundingdino-py
    "nheads": 8,
    "num_queries": 30,
    "max_text_len": 64,
    "use_checkpoint": False,
    "use_transformer_ckpt": False,
}


def save_tiny_official_grounding_dino(directory: Path) -> dict[str, Any]:
    """groundingdino-py's SwinT-OGC model, shrunk, as `.pth` + python config + tiny local BERT."""
    import groundingdino
    from transformers import BertModel

    from idg_adapters.grounding_text import bert_tokenizer

    directory.mkdir(parents=True, exist_ok=True)
    text_dir = directory / "tiny-bert"
    torch.manual_seed(0)
    BertModel(tiny_bert_config(max_positions=128)).save_pretrained(text_dir)
    bert_tokenizer(text_dir).save_pretrained(text_dir)
    source = Path(groundingdino.__file__).parent / "config" / "GroundingDINO_SwinT_OGC.py"
    config_text = source.read_text(encoding="utf-8")
    for key, value in OFFICIAL_TINY_OVERRIDES.items():
        config_text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value!r}", config_text)
        assert count == 1, f"{key} not found once in {source}"
    config_path = directory / "GroundingDINO_SwinT_tiny.py"
    config_path.write_text(config_text, encoding="utf-8")

    from groundingdino.models import build_model
    from groundingdino.util.slconfig import SLConfig

    args = SLConfig.fromfile(str(config_path))
    args.text_encoder_type = str(text_dir)
    args.device = "cpu"
    torch.manual_seed(0)
    model = build_model(args)
    checkpoint = directory / "groundingdino_tiny.pth"
    torch.save({"model": model.state_dict()}, checkpoint)
    # image_size: the official transform has no saved preprocessor config to shrink.
    return {
        "weights": str(checkpoint),
        "config": str(config_path),
        "text_encoder": str(text_dir),
        "image_size": TINY_SHORT_SIDE,
    }
