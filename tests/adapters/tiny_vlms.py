"""Tiny randomly initialised multimodal LLMs saved to disk, one per `vlm-hf-*` family.

Each builder writes what a user would point `--opt vlm-hf-<family>.weights=` at: a model saved
with `save_pretrained` and a processor (image processor, video processor, tokenizer, chat
template) saved beside it, all made here without a model hub. The tokenizer is a byte-level BPE
trained in about a second on a few sentences, with the family's special tokens added (marked
special, as in the released tokenizers, so a decoder that drops special tokens would lose
Qwen2-VL's `<|box_start|>`); the chat templates are short Jinja strings of the families' forms.
Models have one or two layers of width 32 and a vision tower of one or two layers over 8-pixel
patches, so a generated token costs milliseconds on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

CORPUS = (
    "The first image shows a scene before a change; the second image shows the same scene after it.",
    "Locate this difference in the second image: the object that changed, the new thing, the thing that is gone.",
    'Output its bbox coordinates in JSON format, as [{"bbox_2d": [x1, y1, x2, y2], "label": "difference"}].',
    "The image shows the same scene twice, side by side: before a change on the left, after it on the right.",
    "Answer with the box [x1, y1, x2, y2] of the difference, numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000.",
    "You are a helpful assistant. user assistant system where the blue one went, the recoloured one.",
)

QWEN_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
INTERNVL_TOKENS = ("<img>", "</img>", "<IMG_CONTEXT>", "<video>", "<box>", "</box>", "<ref>", "</ref>")
LLAVA_TOKENS = ("<image>", "<video>")


def _chatml_template(image: str) -> str:
    """A ChatML template (Qwen2-VL's form, without its default system turn and video entries):
    an image entry becomes `image`, a text entry its text."""
    return (
        "{% for message in messages %}"
        "{{ '<|im_start|>' + message['role'] + '\\n' }}"
        "{% if message['content'] is string %}{{ message['content'] }}"
        "{% else %}{% for part in message['content'] %}"
        "{% if part['type'] == 'image' %}{{ '" + image + "' }}"
        "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
        "{% endfor %}{% endif %}"
        "{{ '<|im_end|>\\n' }}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )


QWEN_TEMPLATE = _chatml_template("<|vision_start|><|image_pad|><|vision_end|>")
INTERNVL_TEMPLATE = _chatml_template("<IMG_CONTEXT>\\n")
LLAVA_TEMPLATE = _chatml_template("<image>\\n")


def tiny_tokenizer(family_tokens: tuple[str, ...], extra_special: dict[str, str] | None = None):
    """A byte-level BPE tokenizer (any text encodes) with ChatML and `family_tokens` as special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    specials = list(dict.fromkeys(QWEN_TOKENS[:3] + family_tokens))
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(CORPUS, trainer)
    # The released Qwen-based tokenizers (Qwen2-VL, Qwen2.5-VL, Qwen3-VL, InternVL-hf and
    # LLaVA-OneVision all build on Qwen2) save as Qwen2Tokenizer: end of turn is <|im_end|>.
    tokenizer = Qwen2TokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        bos_token=None,
        additional_special_tokens=[t for t in specials if t not in ("<|im_end|>", "<|endoftext|>")],
        extra_special_tokens=extra_special or {},
    )
    return tokenizer


def _text_config(tokenizer, **extra: Any) -> dict[str, Any]:
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 48,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "max_position_embeddings": 2048,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": None,
        **extra,
    }


def _qwen_token_ids(tokenizer) -> dict[str, int]:
    ids = tokenizer.convert_tokens_to_ids
    return {
        "image_token_id": ids("<|image_pad|>"),
        "video_token_id": ids("<|video_pad|>"),
        "vision_start_token_id": ids("<|vision_start|>"),
        "vision_end_token_id": ids("<|vision_end|>"),
    }


def _save(directory: Path, model: Any, processor: Any, tokenizer: Any) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.eval().save_pretrained(directory)
    processor.save_pretrained(directory)
    return {"weights": str(directory), "max_new_tokens": 12}


# Qwen image processors resize to multiples of patch * merge (8 * 2 here) within a pixel budget.
QWEN_PIXELS = {"min_pixels": 16 * 16, "max_pixels": 48 * 48}


def _qwen_processor(processor_class: Any, image_class: Any, video_class: Any, tokenizer: Any) -> Any:
    image = image_class(patch_size=8, merge_size=2, temporal_patch_size=2, **QWEN_PIXELS)
    video = video_class(patch_size=8, merge_size=2, temporal_patch_size=2, **QWEN_PIXELS)
    return processor_class(
        image_processor=image, tokenizer=tokenizer, video_processor=video, chat_template=QWEN_TEMPLATE
    )


def save_tiny_qwen2_vl(directory: Path) -> dict[str, Any]:
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer = tiny_tokenizer(QWEN_TOKENS)
    config = Qwen2VLConfig(
        text_config=_text_config(tokenizer, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}),
        vision_config={"depth": 1, "embed_dim": 16, "hidden_size": 32, "num_heads": 2, "mlp_ratio": 2, "patch_size": 8},
        **_qwen_token_ids(tokenizer),
    )
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config)
    processor = _qwen_processor(Qwen2VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor, tokenizer)
    return _save(directory, model, processor, tokenizer)


def save_tiny_qwen2_5_vl(directory: Path) -> dict[str, Any]:
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer = tiny_tokenizer(QWEN_TOKENS)
    config = Qwen2_5_VLConfig(
        text_config=_text_config(tokenizer, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}),
        vision_config={
            "depth": 2,
            "hidden_size": 16,
            "intermediate_size": 24,
            "num_heads": 2,
            "patch_size": 8,
            "window_size": 32,
            "out_hidden_size": 32,
            "fullatt_block_indexes": [1],
        },
        **_qwen_token_ids(tokenizer),
    )
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(config)
    processor = _qwen_processor(Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor, tokenizer)
    return _save(directory, model, processor, tokenizer)


def save_tiny_qwen3_vl(directory: Path) -> dict[str, Any]:
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    tokenizer = tiny_tokenizer(QWEN_TOKENS)
    rope = {"rope_type": "default", "mrope_section": [4, 2, 2], "mrope_interleaved": True}
    config = Qwen3VLConfig(
        text_config=_text_config(tokenizer, head_dim=16, rope_scaling=rope),
        vision_config={
            "depth": 2,
            "hidden_size": 16,
            "intermediate_size": 24,
            "num_heads": 2,
            "patch_size": 8,
            "out_hidden_size": 32,
            "num_position_embeddings": 16,
            "deepstack_visual_indexes": [0],
        },
        **_qwen_token_ids(tokenizer),
    )
    torch.manual_seed(0)
    model = Qwen3VLForConditionalGeneration(config)
    processor = _qwen_processor(Qwen3VLProcessor, Qwen2VLImageProcessor, Qwen3VLVideoProcessor, tokenizer)
    return _save(directory, model, processor, tokenizer)


def save_tiny_internvl(directory: Path) -> dict[str, Any]:
    from transformers import (
        GotOcr2ImageProcessor,
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLProcessor,
        InternVLVideoProcessor,
    )

    tokenizer = tiny_tokenizer(
        INTERNVL_TOKENS,
        {
            "start_image_token": "<img>",
            "end_image_token": "</img>",
            "context_image_token": "<IMG_CONTEXT>",
            "video_token": "<video>",
        },
    )
    side, patch = 32, 8
    config = InternVLConfig(
        vision_config={
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 24,
            "image_size": [side, side],
            "patch_size": [patch, patch],
        },
        text_config={"model_type": "qwen2", **_text_config(tokenizer)},
        image_token_id=tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>"),
        image_seq_length=(side // patch) ** 2 // 4,
    )
    torch.manual_seed(0)
    model = InternVLForConditionalGeneration(config)
    size = {"height": side, "width": side}
    processor = InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(size=size, crop_to_patches=True, max_patches=4),
        tokenizer=tokenizer,
        video_processor=InternVLVideoProcessor(size=size),
        image_seq_length=config.image_seq_length,
        chat_template=INTERNVL_TEMPLATE,
    )
    return _save(directory, model, processor, tokenizer)


def save_tiny_llava_onevision(directory: Path) -> dict[str, Any]:
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
    )

    tokenizer = tiny_tokenizer(LLAVA_TOKENS)
    side, patch = 32, 8
    pinpoints = [[side, side], [side, 2 * side], [2 * side, side], [2 * side, 2 * side]]
    config = LlavaOnevisionConfig(
        vision_config={
            "model_type": "siglip_vision_model",
            "hidden_size": 16,
            "intermediate_size": 24,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": side,
            "patch_size": patch,
        },
        text_config={"model_type": "qwen2", **_text_config(tokenizer)},
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
        image_grid_pinpoints=pinpoints,
    )
    torch.manual_seed(0)
    model = LlavaOnevisionForConditionalGeneration(config)
    size = {"height": side, "width": side}
    processor = LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size, image_grid_pinpoints=pinpoints),
        tokenizer=tokenizer,
        video_processor=LlavaOnevisionVideoProcessor(size=size),
        num_image_tokens=(side // patch) ** 2,
        vision_feature_select_strategy="full",
        chat_template=LLAVA_TEMPLATE,
    )
    return _save(directory, model, processor, tokenizer)


VLM_BUILDERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "qwen2-vl": save_tiny_qwen2_vl,
    "qwen2.5-vl": save_tiny_qwen2_5_vl,
    "qwen3-vl": save_tiny_qwen3_vl,
    "internvl": save_tiny_internvl,
    "llava-onevision": save_tiny_llava_onevision,
    # `vlm-hf-auto` loads whatever AutoModelForImageTextToText maps the config to.
    "auto": save_tiny_llava_onevision,
}
"""vlm-hf family key -> builder of its tiny saved model; each returns the adapter's options."""
