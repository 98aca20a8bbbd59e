"""The model-family table of the local multimodal-LLM adapters (`vlm-hf-*`, built in `vlm_hf.py`).

One row per family says which transformers class loads it, how its processor takes the two
images, and which shipped prompt template (`adapters/prompts/<prompt>.yaml`) it uses by default;
the template declares the answer's box convention and coordinate scale:

| adapter | transformers class | two images | default prompt | boxes |
|---|---|---|---|---|
| `vlm-hf-qwen2-vl` | Qwen2VLForConditionalGeneration | one message, two image entries | qwen2-vl | `<\\|box_start\\|>(x1,y1),(x2,y2)<\\|box_end\\|>`, 0-1000 |
| `vlm-hf-qwen2.5-vl` | Qwen2_5_VLForConditionalGeneration | one message, two image entries | qwen2.5-vl | JSON `bbox_2d`, pixels of the resized input |
| `vlm-hf-qwen3-vl` | Qwen3VLForConditionalGeneration | one message, two image entries | qwen3-vl | JSON `bbox_2d`, 0-1000 |
| `vlm-hf-internvl` | InternVLForConditionalGeneration | one message, two image entries | internvl | `<box>[[x1, y1, x2, y2]]</box>`, 0-1000 |
| `vlm-hf-llava-onevision` | LlavaOnevisionForConditionalGeneration | one message, two image entries | llava-onevision | `[x1, y1, x2, y2]`, 0-1 |
| `vlm-hf-auto` | AutoModelForImageTextToText | one message, two image entries | generic | `[x1, y1, x2, y2]`, 0-1000 |

Every family formats its messages with its processor's own chat template
(`processor.apply_chat_template`), so the special tokens are the model's, not re-typed here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VlmFamily:
    key: str  # the adapter is registered as `vlm-hf-<key>`
    model_class: str  # a class of `transformers`
    prompt: str  # the default shipped prompt template
    description: str
    resized_input: bool = False  # the processor reports each image's resized size (image_grid_thw)
    patch_size_key: str = "patch_size"  # where the image processor keeps its patch size (resized inputs)


FAMILIES: dict[str, VlmFamily] = {
    f.key: f
    for f in (
        VlmFamily(
            "qwen2-vl", "Qwen2VLForConditionalGeneration", "qwen2-vl", "Qwen2-VL (local weights)", resized_input=True
        ),
        VlmFamily(
            "qwen2.5-vl",
            "Qwen2_5_VLForConditionalGeneration",
            "qwen2.5-vl",
            "Qwen2.5-VL (local weights)",
            resized_input=True,
        ),
        VlmFamily(
            "qwen3-vl", "Qwen3VLForConditionalGeneration", "qwen3-vl", "Qwen3-VL (local weights)", resized_input=True
        ),
        VlmFamily("internvl", "InternVLForConditionalGeneration", "internvl", "InternVL (transformers-native weights)"),
        VlmFamily(
            "llava-onevision",
            "LlavaOnevisionForConditionalGeneration",
            "llava-onevision",
            "LLaVA-OneVision (llava-hf weights)",
        ),
        VlmFamily("auto", "AutoModelForImageTextToText", "generic", "any image-text-to-text model transformers loads"),
    )
}
