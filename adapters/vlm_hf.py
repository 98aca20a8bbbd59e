"""`vlm-hf-<family>`: multimodal LLMs run locally with transformers, one adapter per family row.

Each row of `vlm_families.FAMILIES` becomes an adapter (`vlm-hf-qwen2-vl`, ..., `vlm-hf-auto`) of
the family `vlm-hf`, so `--models vlm-hf` selects them all. The weights are a local model
directory (`--opt vlm-hf-qwen2-vl.weights=/path/to/model-dir`, the folder `save_pretrained`
writes, with its processor), or a hub id `org/name[@revision]` fetched at load when the user
passes `--allow-download` (`weights_source.py`); nothing is downloaded otherwise.

For each sample the request's images and text become one user message (an image entry per image,
then the text; the prompt's system text, when it has one, as a system message), formatted by the
processor's own chat template and answered by greedy decoding. The answer is decoded from the new
tokens only, cut at the first end-of-turn or padding token and with every other special token
kept: Qwen2-VL writes its boxes between `<|box_start|>` and `<|box_end|>`, which are special
tokens, so decoding with `skip_special_tokens=True` would erase the box markers.

Options besides the common ones of `VlmAdapter`: `weights` (the model directory, required) and
`dtype` (`auto`: the dtype its config names; or float32, bfloat16, float16). A local directory's
content (model, processor, chat template) is hashed into the fingerprint; a hub model is
fingerprinted by the commit it resolved to, which `load()` writes into the `weights` option
(`org/name@<commit>`) so run.json names it. Usage counts the prompt's
tokens (image tokens included) and every generated token, the end-of-turn token included.

Requests run one at a time, never batched: a padded batch changes the logits by float round-off,
and greedy decoding can turn that into a different answer, so an answer would depend on the batch
it came in (the adapter contract forbids it). A failure on one request (an image the processor
refuses, memory) is that sample's error; the others are still answered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from idg_adapters.base import AdapterUnavailable
from idg_adapters.box_scales import Size
from idg_adapters.checkpoint_files import weights_sha256
from idg_adapters.registry import register_subclass
from idg_adapters.vlm_adapter import VlmAdapter, VlmAnswer, VlmRequest
from idg_adapters.vlm_families import FAMILIES, VlmFamily
from idg_adapters.weights_source import (
    ResolvedWeights,
    hub_note,
    locate_weights,
    resolve_weights_dir,
    weights_fingerprint_parts,
)

DTYPES = ("auto", "float32", "bfloat16", "float16")
"""Values of the `dtype` option: `auto` keeps the dtype the model directory's config names."""


class HfVlmAdapter(VlmAdapter):
    """A multimodal LLM of one family (set by `register_families`) from a local transformers directory."""

    family: ClassVar[str] = "vlm-hf"
    vlm_family: ClassVar[VlmFamily]
    weights_example: ClassVar[str] = "/path/to/model-dir"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if self.options["dtype"] not in DTYPES:
            raise ValueError(f"{self.name}: dtype must be one of {DTYPES}, got {self.options['dtype']!r}")
        self._model: Any = None
        self._processor: Any = None
        self._device = "cpu"
        self._stop_ids: set[int] = set()
        self._weights_digest: str | None = None
        self._weights: ResolvedWeights | None = None  # set by load()

    @classmethod
    def backend_options(cls) -> dict[str, Any]:
        return {
            "weights": "",  # a local model directory, or a hub id with --allow-download
            "dtype": "auto",  # one of DTYPES
        }

    def how_to_enable(self) -> str:
        return f"--opt {self.name}.weights={self.weights_example} (or set it in --model-config)"

    def located_weights(self) -> ResolvedWeights | None:
        """The weights on this machine without downloading (a local path, or a hub id's cached
        snapshot); None when `load()` will fetch them. AdapterUnavailable when they are missing."""
        if self._weights is not None:
            return self._weights
        value = str(self.options["weights"]).strip()
        if not value:
            raise AdapterUnavailable("no model directory given", self.how_to_enable())
        return locate_weights(value, f"{self.name}.weights", self.allow_download, self.how_to_enable())

    def check_note(self) -> str | None:
        try:
            return hub_note(str(self.options["weights"]), self.located_weights())
        except AdapterUnavailable:
            return None

    def weights_dir(self) -> Path | None:
        """The weights as a model directory (None: a hub model `load()` will fetch), else
        AdapterUnavailable naming the option."""
        located = self.located_weights()
        if located is None:
            return None
        path = located.path
        if not path.is_dir():
            what = "is not a directory" if path.exists() else "does not exist"
            raise AdapterUnavailable(f"model directory {path} {what}", self.how_to_enable())
        if not (path / "config.json").is_file():
            raise AdapterUnavailable(
                f"{path} has no config.json: not a Hugging Face model directory", self.how_to_enable()
            )
        return path

    def check(self) -> None:
        self.weights_dir()

    def _model_class(self) -> Any:
        import transformers

        name = self.vlm_family.model_class
        cls = getattr(transformers, name, None)
        if cls is None:
            raise AdapterUnavailable(
                f"transformers {transformers.__version__} has no {name}",
                "pip install -U transformers",
            )
        return cls

    def _check_model_type(self, directory: Path, model_class: Any) -> None:
        """A directory of another architecture would load with random weights and a warning only."""
        expected = getattr(getattr(model_class, "config_class", None), "model_type", None)
        if not expected:  # the Auto class: any model type transformers maps
            return
        try:
            found = json.loads((directory / "config.json").read_text(encoding="utf-8")).get("model_type")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            raise AdapterUnavailable(f"cannot read {directory / 'config.json'} ({exc})", self.how_to_enable()) from exc
        if found != expected:
            raise AdapterUnavailable(
                f"{directory} holds a {found!r} model, not {expected!r}",
                f"--opt vlm-hf-{family_of_model_type(found)}.weights={directory}",
            )

    def load(self, device: str = "cpu") -> None:
        import torch

        value = str(self.options["weights"]).strip()
        if not value:
            raise AdapterUnavailable("no model directory given", self.how_to_enable())
        self._weights = resolve_weights_dir(value, f"{self.name}.weights", self.allow_download, self.how_to_enable())
        directory = self.weights_dir()
        assert directory is not None  # resolved above: a local directory or a fetched snapshot
        model_class = self._model_class()
        self._check_model_type(directory, model_class)
        self._processor = self._load_processor(directory)
        dtype = self.options["dtype"]
        model = model_class.from_pretrained(str(directory), dtype=dtype if dtype == "auto" else getattr(torch, dtype))
        self._model = model.to(device).eval()
        self._device = device
        self._stop_ids = stop_token_ids(self._model, self._processor.tokenizer)
        if self._weights.revision is not None:
            # The commit names the content: pinning the option puts it into the fingerprint and run.json.
            self.options["weights"] = self._weights.pinned
        else:
            self._weights_digest = weights_sha256(directory)

    def _load_processor(self, directory: Path) -> Any:
        """The directory's processor (image processor, tokenizer, chat template), checked before the
        model loads: without it, or without a chat template, every sample would fail the same way."""
        from transformers import AutoProcessor

        how = f"save the model's processor into {directory} (processor.save_pretrained), with its chat template"
        try:
            processor = AutoProcessor.from_pretrained(str(directory))
        except Exception as exc:  # transformers raises OSError, ValueError, KeyError ... for missing files
            raise AdapterUnavailable(
                f"cannot load a processor from {directory} ({type(exc).__name__}: {exc})", how
            ) from exc
        if not hasattr(processor, "image_processor") or not hasattr(processor, "tokenizer"):
            raise AdapterUnavailable(
                f"{directory} holds a {type(processor).__name__}, not a multimodal processor (images and text)", how
            )
        if not getattr(processor, "chat_template", None):
            raise AdapterUnavailable(f"the processor in {directory} has no chat template", how)
        return processor

    def fingerprint_parts(self) -> dict[str, Any]:
        return {**super().fingerprint_parts(), **weights_fingerprint_parts(self._weights, self._weights_digest)}

    def num_parameters(self) -> int | None:
        return sum(p.numel() for p in self._model.parameters()) if self._model is not None else None

    def answer(self, requests: list[VlmRequest]) -> list[VlmAnswer | Exception]:
        if self._model is None:
            raise RuntimeError(f"{self.name}: call load() before predict()")
        answers: list[VlmAnswer | Exception] = []
        for request in requests:
            try:
                answers.append(self._answer_one(request))
            except Exception as exc:  # this sample's error; the others are still answered
                answers.append(exc)
        return answers

    def messages(self, request: VlmRequest) -> list[dict[str, Any]]:
        """The chat of one request in transformers' multimodal message form."""
        content: list[dict[str, Any]] = [{"type": "image"} for _ in request.images]
        content.append({"type": "text", "text": request.text})
        chat: list[dict[str, Any]] = []
        if request.system:
            chat.append({"role": "system", "content": [{"type": "text", "text": request.system}]})
        chat.append({"role": "user", "content": content})
        return chat

    def _answer_one(self, request: VlmRequest) -> VlmAnswer:
        import torch

        processor, model = self._processor, self._model
        prompt = processor.apply_chat_template(self.messages(request), add_generation_prompt=True, tokenize=False)
        # HWC arrays with their layout named: from a PIL image, transformers guesses the channel axis
        # by the shape, and guesses wrong for an image 1 to 3 pixels high (a 1x1 image, a thin row).
        images = [np.array(image) for image in request.images]
        inputs = processor(text=[prompt], images=images, return_tensors="pt", input_data_format="channels_last")
        model_sizes = self.model_sizes(inputs)
        inputs = inputs.to(self._device, dtype=model.dtype)
        prompt_length = int(inputs["input_ids"].shape[1])
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=int(self.options["max_new_tokens"]),
                do_sample=False,
                num_beams=1,
                temperature=None,
                top_p=None,
                top_k=None,
            )
        new_tokens = output[0, prompt_length:].tolist()
        text = decode_reply(processor.tokenizer, new_tokens, self._stop_ids)
        usage = {"prompt_tokens": prompt_length, "completion_tokens": len(new_tokens)}
        return VlmAnswer(text=text, usage=usage, model_sizes=model_sizes)

    def model_sizes(self, inputs: Any) -> list[Size]:
        """(w, h) the model resized each image to, from the processor's `image_grid_thw` (a row t, h, w
        in patches per image): read for the families whose row says `resized_input` (Qwen-VL), and
        for `vlm-hf-auto` whenever its model's processor reports it; otherwise empty."""
        if not (self.vlm_family.resized_input or self.vlm_family.key == "auto"):
            return []
        grid = inputs.get("image_grid_thw")
        patch = getattr(self._processor.image_processor, self.vlm_family.patch_size_key, None)
        if grid is None or not isinstance(patch, int):
            return []
        return [(int(w) * patch, int(h) * patch) for _, h, w in grid.tolist()]


def family_of_model_type(model_type: object) -> str:
    """The key of the family whose transformers class loads `model_type` (a config.json's
    `model_type`), or `auto` when no row's class does."""
    import transformers

    for row in FAMILIES.values():
        config_class = getattr(getattr(transformers, row.model_class, None), "config_class", None)
        if config_class is not None and getattr(config_class, "model_type", None) == model_type:
            return row.key
    return "auto"


def stop_token_ids(model: Any, tokenizer: Any) -> set[int]:
    """Tokens that end an answer: the generation config's and the tokenizer's end and padding ids."""
    ids: set[int] = set()
    config = getattr(model, "generation_config", None)
    for value in (
        getattr(config, "eos_token_id", None),
        getattr(config, "pad_token_id", None),
        tokenizer.eos_token_id,
        tokenizer.pad_token_id,
    ):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return ids


def decode_reply(tokenizer: Any, new_tokens: list[int], stop_ids: set[int]) -> str:
    """The answer in `new_tokens`: cut at the first stop token, decoded with the other special
    tokens kept (box markers are special tokens in Qwen2-VL), outer whitespace stripped."""
    end = next((i for i, token in enumerate(new_tokens) if token in stop_ids), len(new_tokens))
    text = tokenizer.decode(new_tokens[:end], skip_special_tokens=False, clean_up_tokenization_spaces=False)
    return text.strip()


def register_families() -> dict[str, type[HfVlmAdapter]]:
    """One registered `vlm-hf-<key>` subclass per row of FAMILIES."""
    registered = {}
    for row in FAMILIES.values():
        name = f"vlm-hf-{row.key}"
        qualname = f"HfVlmAdapter_{row.key.replace('-', '_').replace('.', '_')}"
        attrs = {
            "vlm_family": row,
            "default_prompt": row.prompt,
            "description": f"{row.description}: {row.model_class} via transformers, local or hub weights",
        }
        registered[name] = register_subclass(name, HfVlmAdapter, qualname, attrs)
    return registered


ADAPTERS = register_families()
