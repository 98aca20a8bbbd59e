"""A tiny randomly initialised MM-Grounding-DINO for mmdet, saved as a user would have it on disk.

mmdet's own Swin-T config, shrunk (see `TINY_MMDET_OVERRIDES`), dumped as a standalone python config,
plus a `.pth` checkpoint and a tiny local BERT directory. Building it needs mmdet with mmcv's ops.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tests.adapters.grounding.tiny_grounders import TINY_SHORT_SIDE, tiny_bert_config

SOURCE_CONFIG = "mm_grounding_dino/grounding_dino_swin-t_pretrain_obj365.py"
_TINY_FFN = 32
# Keeps the structure (Swin backbone with 3 output stages, 4 feature levels, text enhancer, fusion,
# two-stage decoder with box refinement). d_model stays 256: mmdet hard-codes the text position
# encoding's 256 dims. Shrinks the rest so one 96 px image runs in well under a second.
TINY_MMDET_OVERRIDES: dict[str, Any] = {
    "model.num_queries": 30,
    "model.test_cfg.max_per_img": 30,
    "model.backbone.embed_dims": 24,
    "model.backbone.depths": [1, 1, 1, 1],
    "model.backbone.num_heads": [1, 2, 2, 2],
    "model.backbone.with_cp": False,
    "model.backbone.drop_path_rate": 0.0,
    "model.backbone.init_cfg": None,
    "model.neck.in_channels": [48, 96, 192],
    "model.encoder.num_layers": 1,
    "model.encoder.num_cp": 0,
    "model.encoder.layer_cfg.ffn_cfg.feedforward_channels": _TINY_FFN,
    "model.encoder.text_layer_cfg.ffn_cfg.feedforward_channels": _TINY_FFN,
    "model.encoder.fusion_layer_cfg.embed_dim": _TINY_FFN,
    "model.decoder.num_layers": 2,
    "model.decoder.layer_cfg.ffn_cfg.feedforward_channels": _TINY_FFN,
}


def save_tiny_mmdet_grounding_dino(directory: Path) -> dict[str, Any]:
    """Writes `tiny_mm_grounding_dino.py`, `tiny_mm_grounding_dino.pth` and `tiny-bert/`; returns adapter options."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from idg_adapters.grounding_text import bert_tokenizer
    from idg_adapters.mmdet_grounding_dino import resolve_config

    directory.mkdir(parents=True, exist_ok=True)
    text_dir = directory / "tiny-bert"
    torch.manual_seed(0)
    from transformers import BertModel

    BertModel(tiny_bert_config(max_positions=256), add_pooling_layer=False).save_pretrained(text_dir)
    bert_tokenizer(text_dir).save_pretrained(text_dir)

    source = resolve_config(SOURCE_CONFIG)
    assert source is not None, f"{SOURCE_CONFIG} is not among mmdet's packaged configs"
    cfg = Config.fromfile(str(source))
    cfg.merge_from_dict(TINY_MMDET_OVERRIDES)
    config_path = directory / "tiny_mm_grounding_dino.py"
    cfg.dump(str(config_path))

    # Built the way the adapter builds it, so every weight the checkpoint needs is there.
    cfg.model.language_model.name = str(text_dir)
    init_default_scope("mmdet")
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    checkpoint = directory / "tiny_mm_grounding_dino.pth"
    torch.save({"meta": {"note": "random weights for tests"}, "state_dict": model.state_dict()}, checkpoint)
    return {
        "weights": str(checkpoint),
        "config": str(config_path),
        "text_encoder": str(text_dir),
        "image_size": TINY_SHORT_SIDE,
    }
