"""The adapter contract, checked for every registered adapter (built-in and plugin alike).

Parametrized over the registry, as timm does for its models: a new adapter is tested by adding
it, without new test code. Adapters that need weights get tiny random ones built here
(tests/adapters/tiny_weights.py), so each is loaded through its real path; a family whose package
is missing here is skipped with the command that installs it. A built-in adapter that is still
unavailable fails; a plugin adapter that is unavailable is skipped with its reason. Set
IDG_HARNESS_TEST_DEVICE (default cpu) to load adapters elsewhere.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from PIL import Image

from idg_adapters import registry
from idg_adapters.base import Adapter, AdapterInputError, AdapterUnavailable, PairInput
from tests.adapters.prediction_checks import assert_same, assert_valid
from tests.adapters.tiny_weights import FAMILY_BUILDERS

ADAPTER_NAMES = registry.available_names()
DEVICE = os.environ.get("IDG_HARNESS_TEST_DEVICE", "cpu")


def _marks(name: str) -> list[pytest.MarkDecorator]:
    family = registry.family_of(name)
    if family == "gdino-official":
        return [pytest.mark.slow]
    if family == "mmdet-gdino":
        return [pytest.mark.mmdet]  # `pytest -m mmdet` runs them after `make mmdet`
    return []


def _tiny_weights(name: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Options pointing `name` at tiny random weights, or {} when it needs none."""
    family = registry.family_of(name)
    if family in FAMILY_BUILDERS:
        return request.getfixturevalue("tiny_grounder_options")(family)
    if family == "cd-rerank-clip":
        return request.getfixturevalue("tiny_clip_options")
    if family == "vlm-hf":
        return request.getfixturevalue("tiny_vlm")(name.removeprefix("vlm-hf-"))
    if family == "vlm-api":  # a scripted OpenAI-compatible server on 127.0.0.1 stands in for the model
        from tests.adapters.scripted_openai_server import shared_hashed_box_server

        return {"base_url": shared_hashed_box_server().base_url, "model": "test-model"}
    return {}


@pytest.fixture(scope="module", params=[pytest.param(n, marks=_marks(n)) for n in ADAPTER_NAMES])
def adapter(request: pytest.FixtureRequest) -> Adapter:
    """Each registered adapter with default options (plus tiny weights where needed), loaded once per module."""
    instance = registry.create_adapter(request.param, **_tiny_weights(request.param, request))
    try:
        instance.load(DEVICE)
    except AdapterUnavailable as exc:
        message = f"{request.param} unavailable: {exc.reason} (to enable: {exc.how_to_enable})"
        if type(instance).__module__ in registry.BUILTIN_MODULES:
            pytest.fail(f"built-in {message}")
        pytest.skip(message)
    return instance


def test_name_matches_registry_key(adapter: Adapter) -> None:
    assert adapter.name in ADAPTER_NAMES
    assert registry.get_adapter_class(adapter.name) is type(adapter)


def test_one_valid_prediction_per_input(adapter: Adapter, pairs: list[PairInput]) -> None:
    predictions = adapter.predict(pairs)
    assert isinstance(predictions, list) and len(predictions) == len(pairs)
    for prediction, pair in zip(predictions, pairs, strict=True):
        assert_valid(prediction, pair)


def test_deterministic(adapter: Adapter, pairs: list[PairInput]) -> None:
    first = adapter.predict(pairs)
    second = adapter.predict(pairs)
    for a, b, pair in zip(first, second, pairs, strict=True):
        assert_same(a, b, f"{adapter.name} on {pair.id}: two calls disagree")


def test_batch_size_invariant(adapter: Adapter, pairs: list[PairInput]) -> None:
    # The batch mixes 64x48 and 80x80 pairs, so padding or stacking bugs show up here too.
    batched = adapter.predict(pairs)
    reversed_batch = adapter.predict(pairs[::-1])[::-1]
    for pair, together, backwards in zip(pairs, batched, reversed_batch, strict=True):
        (alone,) = adapter.predict([pair])
        assert_same(together, alone, f"{adapter.name} on {pair.id}: batch of {len(pairs)} vs alone")
        assert_same(backwards, alone, f"{adapter.name} on {pair.id}: reversed batch vs alone")


def degenerate_pairs(scene) -> list[PairInput]:
    black, white = (0, 0, 0), (255, 255, 255)
    return [
        PairInput("one-pixel-same", Image.new("RGB", (1, 1), black), Image.new("RGB", (1, 1), black), "x"),
        PairInput("one-pixel-changed", Image.new("RGB", (1, 1), black), Image.new("RGB", (1, 1), white), "x"),
        PairInput("uniform-same", Image.new("RGB", (32, 24), white), Image.new("RGB", (32, 24), white), "x"),
        PairInput("uniform-changed", Image.new("RGB", (32, 24), black), Image.new("RGB", (32, 24), white), "x"),
        PairInput("thin-row", scene((50, 1)), scene((50, 1), [((10, 0, 20, 1), white)]), "x"),
        PairInput("empty-query", scene((64, 48)), scene((64, 48), [((5, 5, 20, 20), white)]), ""),
    ]


def test_degenerate_inputs_never_raise(adapter: Adapter, scene) -> None:
    pairs = degenerate_pairs(scene)
    for pair in pairs:
        (prediction,) = adapter.predict([pair])
        assert_valid(prediction, pair)
    for prediction, pair in zip(adapter.predict(pairs), pairs, strict=True):
        assert_valid(prediction, pair)


def test_empty_batch(adapter: Adapter) -> None:
    assert adapter.predict([]) == []


@pytest.mark.parametrize("name", ADAPTER_NAMES)
def test_fingerprint_stable_and_option_sensitive(name: str) -> None:
    cls = registry.get_adapter_class(name)
    fingerprint = cls().fingerprint()
    assert re.fullmatch(r"[0-9a-f]{16,}", fingerprint), f"{name}: fingerprint {fingerprint!r} is not a hex digest"
    assert cls().fingerprint() == fingerprint, f"{name}: fingerprint differs between identical instances"
    changed = _instance_with_one_option_changed(cls)
    if changed is None:
        pytest.skip(f"{name} has no option this test knows how to change")
    key, instance = changed
    assert instance.fingerprint() != fingerprint, f"{name}: changing option {key!r} left the fingerprint unchanged"


def _instance_with_one_option_changed(cls: type[Adapter]) -> tuple[str, Adapter] | None:
    for key, value in cls.default_options().items():
        for candidate in _other_values(value):
            try:
                return key, cls(**{key: candidate})
            except (TypeError, ValueError):
                continue  # the adapter rejects this value; try another or the next option
    return None


def _other_values(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, max(value - 1, 0)]
    if isinstance(value, float):
        return [value / 2, value * 1.5, 0.5]
    if isinstance(value, str):
        return [value + "-changed"]
    return []


@pytest.mark.parametrize("name", ADAPTER_NAMES)
def test_unknown_option_raises_type_error(name: str) -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        registry.create_adapter(name, no_such_option=1)


def test_mismatched_sizes_name_the_sample() -> None:
    with pytest.raises(AdapterInputError, match="sample-17"):
        PairInput("sample-17", Image.new("RGB", (64, 48)), Image.new("RGB", (80, 80)), "q")


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_non_rgb_names_the_sample(mode: str) -> None:
    with pytest.raises(AdapterInputError, match="sample-18"):
        PairInput("sample-18", Image.new(mode, (8, 8)), Image.new("RGB", (8, 8)), "q")
    with pytest.raises(AdapterInputError, match="sample-18"):
        PairInput("sample-18", Image.new("RGB", (8, 8)), Image.new(mode, (8, 8)), "q")


def test_non_string_query_names_the_sample() -> None:
    with pytest.raises(AdapterInputError, match="sample-19"):
        PairInput("sample-19", Image.new("RGB", (8, 8)), Image.new("RGB", (8, 8)), None)  # type: ignore[arg-type]
