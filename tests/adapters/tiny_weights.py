"""Tiny randomly initialised weights for every built-in adapter that needs weights.

Each builder writes what a user would point the adapter's options at and returns those options;
the session fixtures in tests/adapters/conftest.py build each family once and share it between
the registry-wide contract test and the family tests.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.grounding.mmdet_requirement import require_mmdet
from tests.adapters.grounding.tiny_grounders import (
    save_tiny_hf_grounding_dino,
    save_tiny_official_grounding_dino,
    save_tiny_owlv2,
)
from tests.adapters.grounding.tiny_mmdet_grounder import save_tiny_mmdet_grounding_dino

FAMILY_BUILDERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "gdino": save_tiny_hf_grounding_dino,
    # With its own tokenizer files, to cover that path too (gdino uses the packaged vocabulary).
    "mmgdino": lambda d: save_tiny_hf_grounding_dino(d, mm=True, with_tokenizer=True),
    "owlv2": save_tiny_owlv2,
    "gdino-official": save_tiny_official_grounding_dino,
    "mmdet-gdino": save_tiny_mmdet_grounding_dino,
}
"""Grounder family -> builder of its tiny saved model."""
FAMILIES = tuple(FAMILY_BUILDERS)

TINY_CLIP_NAME = "tiny-clip-test"
# vocab_size stays open_clip's: its packaged BPE tokenizer emits ids up to 49407.
TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def require_family(family: str) -> None:
    """Skip (or, for mmdet with CI_REQUIRE_MMDET=1, fail) when the family's package is missing here."""
    if family == "gdino-official" and importlib.util.find_spec("groundingdino") is None:
        pytest.skip("groundingdino-py is not installed (pip install 'idg-harness[grounding]')")
    if family == "mmdet-gdino":
        require_mmdet()


def save_tiny_open_clip(directory: Path) -> dict[str, Any]:
    """A tiny random open_clip model: its JSON model config and safetensors weights (no hub needed)."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    # open_clip registers a config under its file stem, so the stem is the model name.
    config = directory / f"{TINY_CLIP_NAME}.json"
    config.write_text(json.dumps(TINY_CLIP), encoding="utf-8")
    open_clip.add_model_config(str(config))
    torch.manual_seed(0)
    model = open_clip.create_model(TINY_CLIP_NAME, pretrained=None)
    weights = directory / "tiny-clip.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    return {"model": TINY_CLIP_NAME, "model_config": str(config), "weights": str(weights)}
