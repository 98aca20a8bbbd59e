"""`vlm-hf-<family>` end to end on tiny random models saved to disk (tests/adapters/tiny_vlms.py).

Every family is loaded through its real path (`create_adapter(..., weights=DIR)`, `load`,
`predict`) in both input modes; a random model's reply rarely holds a box, so these check that
the path runs and the reply and token counts come back. Known replies, put in place of
`generate`'s output, check the decoding (Qwen2-VL's special box tokens survive) and the
`model-pixels` scale (Qwen2.5-VL boxes on the processor's resized input land in B's pixels).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from idg_adapters import registry
from idg_adapters.base import AdapterUnavailable, PairInput
from idg_adapters.vlm_families import FAMILIES
from idg_adapters.vlm_hf import HfVlmAdapter
from tests.adapters.prediction_checks import assert_same, assert_valid

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FAMILY_KEYS = tuple(FAMILIES)


def loaded(name: str, **options: Any) -> HfVlmAdapter:
    adapter = registry.create_adapter(name, **options)
    assert isinstance(adapter, HfVlmAdapter)
    adapter.load("cpu")
    return adapter


def test_one_adapter_per_family_selected_by_family_name() -> None:
    names = [f"vlm-hf-{key}" for key in FAMILY_KEYS]
    assert sorted(registry.select_names(["vlm-hf"])) == sorted(names)
    for key, row in FAMILIES.items():
        cls = registry.get_adapter_class(f"vlm-hf-{key}")
        assert cls.family == "vlm-hf" and cls.default_prompt == row.prompt and cls.description


@pytest.mark.parametrize("mode", ["pair", "canvas"])
@pytest.mark.parametrize("key", FAMILY_KEYS)
def test_family_runs_end_to_end(key: str, mode: str, tiny_vlm, pairs: list[PairInput]) -> None:
    adapter = loaded(f"vlm-hf-{key}", **tiny_vlm(key), mode=mode)
    batch = pairs[:2]
    predictions = adapter.predict(batch)
    assert len(predictions) == len(batch)
    for prediction, pair in zip(predictions, batch, strict=True):
        assert_valid(prediction, pair)
        assert prediction.error is None, prediction.error
        assert isinstance(prediction.reply, str)
        assert prediction.usage is not None and prediction.usage["prompt_tokens"] > 0
        assert 1 <= prediction.usage["completion_tokens"] <= adapter.options["max_new_tokens"]
    assert adapter.num_parameters() and adapter.num_parameters() > 0
    parts = adapter.fingerprint_parts()
    assert len(parts["weights_sha256"]) == 64 and parts["prompt"]["convention"] == adapter.prompt.convention


def test_answers_do_not_depend_on_the_batch(tiny_vlm, pairs: list[PairInput]) -> None:
    adapter = loaded("vlm-hf-qwen2-vl", **tiny_vlm("qwen2-vl"))
    together = adapter.predict(pairs)
    backwards = adapter.predict(pairs[::-1])[::-1]
    for pair, first, second in zip(pairs, together, backwards, strict=True):
        (alone,) = adapter.predict([pair])
        for other in (first, second):
            assert_same(other, alone, pair.id)
            assert other.reply == alone.reply and other.usage == alone.usage


def test_a_failing_request_is_that_samples_error_only(tiny_vlm, pairs: list[PairInput]) -> None:
    adapter = loaded("vlm-hf-qwen2-vl", **tiny_vlm("qwen2-vl"))
    # Qwen2-VL's image processor refuses an aspect ratio above 200.
    strip = Image.new("RGB", (300, 1), (0, 0, 0))
    bad = PairInput("strip-300x1", strip, strip.copy(), "the change")
    good, failed = adapter.predict([pairs[0], bad])
    assert good.error is None and isinstance(good.reply, str)
    assert failed.error is not None and failed.error.startswith("vlm-hf-qwen2-vl: ")
    assert "aspect ratio" in failed.error and len(failed.boxes) == 0


@pytest.mark.parametrize("key", ["internvl", "llava-onevision", "qwen2-vl"])
def test_images_one_to_three_pixels_high_are_read(key: str, tiny_vlm, scene) -> None:
    # From PIL images, these processors took the height of 1 for the channel axis and failed.
    adapter = loaded(f"vlm-hf-{key}", **tiny_vlm(key))
    black, white = Image.new("RGB", (1, 1), (0, 0, 0)), Image.new("RGB", (1, 1), (255, 255, 255))
    tiny = [
        PairInput("one-pixel", black, white, "x"),
        PairInput("thin-row", scene((50, 1)), scene((50, 1), [((10, 0, 20, 1), (255, 255, 255))]), "x"),
        PairInput("three-rows", scene((40, 3)), scene((40, 3), [((5, 0, 9, 3), (255, 255, 255))]), "x"),
    ]
    for prediction, pair in zip(adapter.predict(tiny), tiny, strict=True):
        assert_valid(prediction, pair)
        assert prediction.error is None, prediction.error


def _fake_generate(adapter: HfVlmAdapter, reply_ids: list[int]) -> list[dict[str, Any]]:
    """Make `generate` return the prompt followed by `reply_ids`; returns the inputs it got."""
    import torch

    seen: list[dict[str, Any]] = []

    def generate(**inputs: Any) -> torch.Tensor:
        seen.append(inputs)
        return torch.cat([inputs["input_ids"], torch.tensor([reply_ids])], dim=1)

    adapter._model.generate = generate
    return seen


def test_qwen2_vl_box_tokens_survive_decoding(tiny_vlm, pair_factory) -> None:
    adapter = loaded("vlm-hf-qwen2-vl", **tiny_vlm("qwen2-vl"))
    tokenizer = adapter._processor.tokenizer
    text = "<|object_ref_start|>the new thing<|object_ref_end|><|box_start|>(100,200),(300,400)<|box_end|>"
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert "<|box_start|>" not in tokenizer.decode(ids, skip_special_tokens=True)  # why special tokens are kept
    # The end of turn and the padding after it are not part of the reply.
    end = tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>", "<|endoftext|>"])
    seen = _fake_generate(adapter, ids + end)
    pair = pair_factory("p", (80, 60), [], [], "the new thing")
    (prediction,) = adapter.predict([pair])
    assert prediction.error is None and prediction.reply == text
    np.testing.assert_allclose(prediction.boxes, [[8.0, 12.0, 24.0, 24.0]])  # 0-1000 of 80x60
    assert prediction.usage == {"prompt_tokens": seen[0]["input_ids"].shape[1], "completion_tokens": len(ids) + 3}
    assert seen[0]["do_sample"] is False and seen[0]["max_new_tokens"] == adapter.options["max_new_tokens"]


@pytest.mark.parametrize(
    "name, mode", [("vlm-hf-qwen2.5-vl", "pair"), ("vlm-hf-qwen2.5-vl", "canvas"), ("vlm-hf-auto", "pair")]
)
def test_qwen2_5_vl_model_pixels_round_trip(name: str, mode: str, tiny_vlm, pair_factory) -> None:
    # vlm-hf-auto reads the resized sizes too when the processor reports them.
    adapter = loaded(name, **tiny_vlm("qwen2.5-vl"), mode=mode, prompt="qwen2.5-vl")
    assert adapter.coordinates == "model-pixels"
    pair = pair_factory("p", (64, 48), [], [], "the new thing")
    request = adapter.request_for(pair)
    sizes = adapter.model_sizes(adapter._processor.image_processor(images=request.images, return_tensors="pt"))
    # smart_resize with the tiny processor (sides multiples of 16, at most 48*48 pixels):
    # 64x48 -> 48x32; the 136x48 canvas (A | 8 px gap | B) -> 80x16.
    assert sizes == ([(48, 32), (48, 32)] if mode == "pair" else [(80, 16)])
    want = np.array([16.0, 12.0, 48.0, 36.0])  # in B's pixels
    offset = 0 if request.layout is None else request.layout.b_offset
    (model_w, model_h), (sent_w, sent_h) = sizes[-1], request.sent_size
    box = [(want[0] + offset) * model_w / sent_w, want[1] * model_h / sent_h]
    box += [(want[2] + offset) * model_w / sent_w, want[3] * model_h / sent_h]
    if mode == "pair":
        assert box == [12.0, 8.0, 36.0, 24.0]
    reply = json.dumps([{"bbox_2d": box, "label": "difference"}])
    tokenizer = adapter._processor.tokenizer
    _fake_generate(adapter, tokenizer.encode(reply, add_special_tokens=False) + [tokenizer.eos_token_id])
    (prediction,) = adapter.predict([pair])
    assert prediction.error is None and prediction.reply == reply
    np.testing.assert_allclose(prediction.boxes, [want], atol=1e-9)


def test_model_sizes_only_where_the_family_reports_them(tiny_vlm) -> None:
    import torch

    grid = {"image_grid_thw": torch.tensor([[1, 4, 6]])}  # 4 x 6 patches of 8 px
    assert loaded("vlm-hf-qwen2-vl", **tiny_vlm("qwen2-vl")).model_sizes(grid) == [(48, 32)]
    assert loaded("vlm-hf-internvl", **tiny_vlm("internvl")).model_sizes(grid) == []


@pytest.mark.parametrize(
    "weights, problem",
    [
        ("", "no model directory given"),
        ("{tmp}/missing", "does not exist"),
        ("{tmp}/empty", "has no config.json"),
        ("{tmp}/file.bin", "is not a directory"),
    ],
)
def test_unavailable_without_a_model_directory(weights: str, problem: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.bin").write_bytes(b"x")
    adapter = registry.create_adapter("vlm-hf-qwen2-vl", weights=weights.format(tmp=tmp_path))
    for step in (adapter.check, lambda: adapter.load("cpu")):
        with pytest.raises(AdapterUnavailable) as caught:
            step()
        assert problem in caught.value.reason
        assert caught.value.how_to_enable.startswith("--opt vlm-hf-qwen2-vl.weights=/path/to/model-dir")


def test_a_directory_of_another_family_is_refused(tiny_vlm) -> None:
    directory = tiny_vlm("internvl")["weights"]
    adapter = registry.create_adapter("vlm-hf-qwen2-vl", weights=directory)
    adapter.check()  # cheap: a model directory
    with pytest.raises(AdapterUnavailable, match="holds a 'internvl' model, not 'qwen2_vl'") as caught:
        adapter.load("cpu")
    assert caught.value.how_to_enable == f"--opt vlm-hf-internvl.weights={directory}"
    other = registry.create_adapter("vlm-hf-internvl", weights=tiny_vlm("qwen2.5-vl")["weights"])
    with pytest.raises(AdapterUnavailable, match="holds a 'qwen2_5_vl' model, not 'internvl'") as caught:
        other.load("cpu")
    assert caught.value.how_to_enable.startswith("--opt vlm-hf-qwen2.5-vl.weights=")


@pytest.mark.parametrize("drop", ["processor", "chat template"])
def test_a_model_directory_without_its_processor_is_refused(drop: str, tiny_vlm, tmp_path: Path) -> None:
    source = Path(tiny_vlm("qwen2-vl")["weights"])
    kept = {"config.json", "generation_config.json", "model.safetensors"}
    for file in source.iterdir():
        if (drop == "processor" and file.name in kept) or (drop == "chat template" and file.suffix != ".jinja"):
            shutil.copy(file, tmp_path / file.name)
    adapter = registry.create_adapter("vlm-hf-qwen2-vl", weights=str(tmp_path))
    problem = "cannot load a processor from" if drop == "processor" else "has no chat template"
    with pytest.raises(AdapterUnavailable, match=problem) as caught:
        adapter.load("cpu")
    assert "processor.save_pretrained" in caught.value.how_to_enable


def test_unknown_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="dtype must be one of"):
        registry.create_adapter("vlm-hf-qwen2-vl", dtype="int8")


def test_harness_run_records_replies_and_tokens(tiny_vlm, tiny_dataset: Path, tmp_path: Path) -> None:
    from harness.cli import main

    weights = tiny_vlm("qwen2-vl")["weights"]
    out = tmp_path / "results"
    args = ["run", "--models", "vlm-hf-qwen2-vl", "--dataset", str(tiny_dataset), "--output-dir", str(out)]
    args += ["--run-id", "v", "--device", "cpu", "--opt", f"vlm-hf-qwen2-vl.weights={weights}"]
    assert main(args + ["--opt", "vlm-hf-qwen2-vl.max_new_tokens=8"]) == 0
    rows = [json.loads(line) for line in (out / "v" / "vlm-hf-qwen2-vl" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    for row in rows:
        assert isinstance(row["reply"], str)
        assert row["usage"]["prompt_tokens"] > 0 and 1 <= row["usage"]["completion_tokens"] <= 8
    entry = json.loads((out / "v" / "run.json").read_text())["models"]["vlm-hf-qwen2-vl"]
    assert entry["status"] == "done"
    assert entry["no_prediction"] == sum(1 for row in rows if not row.get("boxes") and not row.get("error"))
    tokens = entry["tokens"]
    assert tokens["samples"] == 6
    assert tokens["prompt"] == sum(row["usage"]["prompt_tokens"] for row in rows)
    assert tokens["completion"] == sum(row["usage"]["completion_tokens"] for row in rows)


def test_hub_id_is_refused_without_allow_download_and_pinned_with_it(
    tiny_vlm: Callable[[str], dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hub id (offline: a hand-made HF cache holding the tiny Qwen2-VL) loads only with
    --allow-download; its commit replaces the content hash in the fingerprint and names it in the options."""
    from tests.adapters.fake_hub_cache import COMMIT_MAIN, add_snapshot, use_fake_hub_cache

    cache = use_fake_hub_cache(tmp_path, monkeypatch)
    add_snapshot(cache, "tiny-org/tiny-qwen2-vl", COMMIT_MAIN, files_from=Path(tiny_vlm("qwen2-vl")["weights"]))
    refused = registry.create_adapter("vlm-hf-qwen2-vl", weights="tiny-org/tiny-qwen2-vl")
    with pytest.raises(AdapterUnavailable, match="pass --allow-download"):
        refused.check()
    allowed = registry.create_adapter("vlm-hf-qwen2-vl", weights="tiny-org/tiny-qwen2-vl", max_new_tokens=4)
    allowed.allow_download = True
    allowed.check()
    assert "cached at commit" in (allowed.check_note() or "")
    allowed.load("cpu")
    assert allowed.options["weights"] == f"tiny-org/tiny-qwen2-vl@{COMMIT_MAIN}"
    parts = allowed.fingerprint_parts()
    assert parts["weights_revision"] == COMMIT_MAIN and "weights_sha256" not in parts
    image = Image.new("RGB", (48, 40), (90, 120, 60))
    (prediction,) = allowed.predict([PairInput("hub-0", image, image.copy(), "the cup")])
    assert prediction.error is None and prediction.reply is not None
