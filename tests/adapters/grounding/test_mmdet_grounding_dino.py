"""What is particular to `mmdet-gdino-*`: availability without mmcv's ops, config resolution, loading checks.

The mode contract (every mode on DiffGround-Synth pairs) runs in test_grounder_adapters.py with the
other families. Tests marked `mmdet` skip without mmdet (fail with CI_REQUIRE_MMDET=1).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from idg_adapters import mmdet_availability, mmdet_grounding_dino, registry
from idg_adapters.base import AdapterUnavailable
from idg_adapters.grounder_modes import MODES
from tests.adapters.conftest import varied_pairs
from tests.adapters.grounding.mmdet_requirement import require_mmdet
from tests.adapters.prediction_checks import assert_valid


@pytest.fixture
def tiny_options(tiny_grounder_options: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Options of the tiny saved model; skips (or fails, with CI_REQUIRE_MMDET=1) without mmdet."""
    return tiny_grounder_options("mmdet-gdino")


def _fake_package(root: Path, name: str, files: tuple[str, ...] = ()) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    for file in files:
        (folder / file).write_bytes(b"")
    return folder


@pytest.mark.parametrize(
    ("installed", "want"),
    [
        ({}, "mmcv is not installed"),
        ({"mmcv": ()}, "without its compiled ops"),
        ({"mmcv": ("_ext.cpython-311-x86_64-linux-gnu.so",)}, "mmdet is not installed"),
        ({"mmcv": ("_ext.cpython-311-x86_64-linux-gnu.so",), "mmdet": ()}, None),
    ],
)
def test_missing_parts_are_named(
    installed: dict[str, tuple[str, ...]], want: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = {name: _fake_package(tmp_path, name, files) for name, files in installed.items()}
    monkeypatch.setattr(mmdet_availability, "package_dir", folders.get)
    missing = mmdet_availability.missing_mmdet_parts()
    if want is None:
        assert missing is None
    else:
        assert missing is not None and want in missing


@pytest.mark.parametrize("mode", MODES)
def test_without_compiled_ops_every_mode_gives_the_install_command(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mmdet_grounding_dino, "missing_mmdet_parts", lambda: "mmcv is installed without its ops")
    adapter = registry.create_adapter(f"mmdet-gdino-{mode}", weights="/any/checkpoint.pth")
    with pytest.raises(AdapterUnavailable) as unavailable:
        adapter.check()
    assert unavailable.value.reason == "mmcv is installed without its ops"
    assert unavailable.value.how_to_enable.startswith("run `make mmdet`")


def test_harness_models_lists_the_install_command(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from harness import cli

    monkeypatch.setattr(mmdet_grounding_dino, "missing_mmdet_parts", lambda: "mmcv is not installed")
    monkeypatch.setenv("COLUMNS", "400")
    cli.main(["models"])
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("mmdet-gdino-")]
    assert len(lines) == len(MODES)
    assert all("skipped: mmcv is not installed" in line for line in lines)
    group = out[out.index("- mmdet-gdino (5)") :]
    assert "why: mmcv is not installed" in group and "enable: run `make mmdet`" in group


@pytest.mark.mmdet
def test_packaged_config_names_resolve() -> None:
    require_mmdet()
    path = mmdet_grounding_dino.resolve_config(mmdet_grounding_dino.DEFAULT_CONFIG)
    assert path is not None and path.is_file()
    assert mmdet_grounding_dino.resolve_config("mm_grounding_dino/no_such_config.py") is None


@pytest.mark.mmdet
def test_unknown_config_name_is_unavailable(tiny_options: dict[str, Any]) -> None:
    options = {**tiny_options, "config": "mm_grounding_dino/no_such_config.py"}
    with pytest.raises(AdapterUnavailable, match="mmdet's .mim/configs") as unavailable:
        registry.create_adapter("mmdet-gdino-b", **options).check()
    assert "mmdet-gdino-b.config=" in unavailable.value.how_to_enable


@pytest.mark.mmdet
def test_non_grounding_config_is_refused(tiny_options: dict[str, Any], tmp_path: Path) -> None:
    config = tmp_path / "retinanet.py"
    config.write_text("model = dict(type='RetinaNet')\n")
    adapter = registry.create_adapter("mmdet-gdino-b", **{**tiny_options, "config": str(config)})
    with pytest.raises(mmdet_grounding_dino.MMDetConfigError, match="not GroundingDINO"):
        adapter.load("cpu")


@pytest.mark.mmdet
def test_text_encoder_of_another_size_names_the_option(tiny_options: dict[str, Any]) -> None:
    # The default text encoder (MiniLM, 384 dims) does not fit the tiny checkpoint's 32-dim BERT.
    options = {**tiny_options, "text_encoder": ""}
    adapter = registry.create_adapter("mmdet-gdino-b", **options)
    with pytest.raises(mmdet_grounding_dino.CheckpointMismatchError, match="text_encoder"):
        adapter.load("cpu")


@pytest.mark.mmdet
def test_fingerprint_follows_the_resolved_config(tiny_options: dict[str, Any], tmp_path: Path) -> None:
    from mmengine.config import Config

    options = tiny_options
    first = registry.create_adapter("mmdet-gdino-b", **options)
    unloaded = first.fingerprint()
    first.load("cpu")
    assert first.fingerprint() != unloaded, "loading must add the weights and config hashes"
    cfg = Config.fromfile(options["config"])
    cfg.test_dataloader.dataset.pipeline[1]["scale"] = (640, 1066)
    changed = tmp_path / "changed.py"
    cfg.dump(str(changed))
    second = registry.create_adapter("mmdet-gdino-b", **{**options, "config": str(changed)})
    second.load("cpu")
    assert second.fingerprint() != first.fingerprint()


@pytest.mark.mmdet
def test_image_size_sets_the_short_side(tiny_options: dict[str, Any]) -> None:
    from mmengine.config import Config

    cfg = Config.fromfile(tiny_options["config"])
    pipeline = mmdet_grounding_dino.inference_pipeline(cfg, 96)
    scales = [step.scale for step in pipeline.transforms if hasattr(step, "scale")]
    assert scales == [(96, 160)]


@pytest.mark.mmdet
def test_empty_query_is_a_per_sample_error(tiny_options: dict[str, Any]) -> None:
    adapter = registry.create_adapter("mmdet-gdino-b", **tiny_options)
    adapter.load("cpu")
    good, blank = varied_pairs()[:2]
    blank.query = " . "
    answers = adapter.predict([good, blank])
    assert answers[0].error is None and len(answers[0].boxes) > 0
    assert answers[1].error is not None and "no words to ground" in answers[1].error


@pytest.mark.mmdet
def test_several_phrases_give_each_box_once(tiny_options: dict[str, Any]) -> None:
    options = {**tiny_options, "noun_phrases": True, "max_boxes": 30, "candidates": 30}
    adapter = registry.create_adapter("mmdet-gdino-b", **options)
    adapter.load("cpu")
    pair = varied_pairs()[2]
    pair.query = "the blue square that moved next to the red square"
    (prediction,) = adapter.predict([pair])
    assert_valid(prediction, pair)
    assert prediction.error is None
    rows = {tuple(box) for box in prediction.boxes}
    assert len(rows) == len(prediction.boxes), "a box came back once per phrase"
