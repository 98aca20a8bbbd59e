"""Every grounding family in every mode, loaded through its real path from tiny saved weights.

Checks the shared adapter contract on DiffGround-Synth pairs: boxes in B's frame, finite, ranked,
deterministic and independent of the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from idg_adapters import registry
from idg_adapters.base import Adapter, AdapterUnavailable, PairInput
from idg_adapters.grounder_adapter import GrounderAdapter
from idg_adapters.grounder_modes import MODES
from tests.adapters.conftest import varied_pairs
from tests.adapters.grounding.mmdet_requirement import require_mmdet
from tests.adapters.prediction_checks import assert_same, assert_valid
from tests.adapters.test_contract import degenerate_pairs
from tests.adapters.tiny_weights import FAMILIES

NAMES = [f"{family}-{mode}" for family in FAMILIES for mode in MODES]


def _marks(name: str) -> list[pytest.MarkDecorator]:
    if name.startswith("gdino-official"):
        return [pytest.mark.slow]
    if name.startswith("mmdet-gdino"):
        return [pytest.mark.mmdet]  # `pytest -m mmdet` runs them after the mmcv build
    return []


@pytest.fixture(scope="module")
def loaded(tiny_grounder_options: Callable[[str], dict[str, Any]]) -> Callable[[str], Adapter]:
    cache: dict[str, Adapter] = {}

    def get(name: str) -> Adapter:
        if name not in cache:
            family = name.rsplit("-", 1)[0]
            adapter = registry.create_adapter(name, **tiny_grounder_options(family))
            adapter.load("cpu")
            cache[name] = adapter
        return cache[name]

    return get


def test_every_family_has_every_mode() -> None:
    registered = set(registry.available_names())
    assert set(NAMES) <= registered
    for name in NAMES:
        cls = registry.get_adapter_class(name)
        assert issubclass(cls, GrounderAdapter)
        assert cls.uses_image_a == (not name.endswith("-b")), name


@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n)) for n in NAMES])
def test_contract_on_synth_pairs(name: str, loaded: Callable[[str], Adapter], synth_pairs: list[PairInput]) -> None:
    adapter = loaded(name)
    pairs = synth_pairs + varied_pairs()[:2]  # two sizes of synth pairs and two tiny scenes
    batched = adapter.predict(pairs)
    again = adapter.predict(pairs[::-1])[::-1]
    for pair, together, backwards in zip(pairs, batched, again, strict=True):
        assert_valid(together, pair)
        assert together.error is None, f"{name} failed on {pair.id}: {together.error}"
        assert 1 <= len(together.boxes) <= adapter.options["max_boxes"]
        (alone,) = adapter.predict([pair])
        assert_same(together, alone, f"{name} on {pair.id}: batch of {len(pairs)} vs alone")
        assert_same(backwards, alone, f"{name} on {pair.id}: reversed batch vs alone")
    assert adapter.num_parameters() > 0


@pytest.mark.parametrize("family", [pytest.param(f, marks=_marks(f)) for f in FAMILIES])
def test_degenerate_inputs_give_valid_predictions(family: str, loaded: Callable[[str], Adapter], scene) -> None:
    # Inputs too small for the model's strides come back as errors, never as exceptions.
    for mode in ("b", "canvas"):
        adapter = loaded(f"{family}-{mode}")
        pairs = degenerate_pairs(scene)
        for pair, prediction in zip(pairs, adapter.predict(pairs), strict=True):
            assert_valid(prediction, pair)
    assert adapter.predict([]) == []


@pytest.mark.parametrize("family", [pytest.param(f, marks=_marks(f)) for f in FAMILIES])
def test_missing_weights_name_the_option(family: str, tmp_path: Path) -> None:
    if family == "mmdet-gdino":
        require_mmdet()  # without mmdet, check() names the install command first
    name = f"{family}-b"
    with pytest.raises(AdapterUnavailable) as no_weights:
        registry.create_adapter(name).check()
    assert no_weights.value.reason == "no weights given"
    assert no_weights.value.how_to_enable.startswith(f"--opt {name}.weights=")
    assert "--model-config" in no_weights.value.how_to_enable
    with pytest.raises(AdapterUnavailable, match="does not exist"):
        registry.create_adapter(name, weights=str(tmp_path / "nowhere")).check()


def test_official_needs_a_text_encoder(tiny_grounder_options: Callable[[str], dict[str, Any]]) -> None:
    options = tiny_grounder_options("gdino-official")
    with pytest.raises(AdapterUnavailable) as missing:
        registry.create_adapter("gdino-official-b", weights=options["weights"]).check()
    assert "text_encoder" in missing.value.how_to_enable


def test_hf_directory_without_config_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(AdapterUnavailable, match="config.json"):
        registry.create_adapter("gdino-b", weights=str(tmp_path)).check()


def test_fingerprint_follows_the_weights_content(
    tiny_grounder_options: Callable[[str], dict[str, Any]], tmp_path: Path
) -> None:
    import shutil

    source = Path(tiny_grounder_options("gdino")["weights"])
    copy = tmp_path / "weights"
    shutil.copytree(source, copy)
    first = registry.create_adapter("gdino-b", weights=str(copy))
    unloaded = first.fingerprint()
    first.load("cpu")
    assert first.fingerprint() != unloaded, "loading must add the weights hash"
    (copy / "preprocessor_config.json").write_text(
        (copy / "preprocessor_config.json").read_text().replace('"shortest_edge": 96', '"shortest_edge": 128')
    )
    second = registry.create_adapter("gdino-b", weights=str(copy))
    second.load("cpu")
    assert second.fingerprint() != first.fingerprint()


def test_noun_phrase_option_changes_the_prompt(tiny_grounder_options: Callable[[str], dict[str, Any]]) -> None:
    adapter = registry.create_adapter("gdino-b", noun_phrases=True, **tiny_grounder_options("gdino"))
    assert adapter.grounder_text("the red mug that was moved to the left side") == "red mug . left side"
    adapter.load("cpu")
    pair = varied_pairs()[0]
    (prediction,) = adapter.predict([pair])
    assert_valid(prediction, pair)
    assert prediction.error is None


def test_bad_mode_options_are_refused() -> None:
    with pytest.raises(ValueError, match="a_half_boxes"):
        registry.create_adapter("gdino-canvas", a_half_boxes="both")
    with pytest.raises(ValueError, match="change_weight"):
        registry.create_adapter("owlv2-cdrank", change_weight=2.0)
    with pytest.raises(ValueError, match="max_boxes"):
        registry.create_adapter("mmgdino-b", max_boxes=0)


def test_canvas_drop_keeps_only_b_half_boxes(tiny_grounder_options: Callable[[str], dict[str, Any]]) -> None:
    options = tiny_grounder_options("gdino")
    mapped = registry.create_adapter("gdino-canvas", candidates=30, max_boxes=30, **options)
    dropped = registry.create_adapter("gdino-canvas", candidates=30, max_boxes=30, a_half_boxes="drop", **options)
    mapped.load("cpu")
    dropped.load("cpu")
    pair = varied_pairs()[1]
    (all_boxes,) = mapped.predict([pair])
    (b_only,) = dropped.predict([pair])
    assert len(b_only.boxes) <= len(all_boxes.boxes)
    # Every box kept by "drop" is among the mapped ones, with its score.
    for box, score in zip(b_only.boxes, b_only.scores, strict=True):
        match = np.all(np.isclose(all_boxes.boxes, box), axis=1) & np.isclose(all_boxes.scores, score)
        assert match.any()
