"""Training config parsing (clear errors) and the warm-up + cosine schedule."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.training.config import TrainConfigError, load_train_config
from harness.training.schedule import warmup_cosine_factor
from harness.training.train_command import DEFAULT_CONFIGS


def test_bundled_config_loads() -> None:
    config = load_train_config(DEFAULT_CONFIGS["cd-siamese"])
    assert config.task == "cd-siamese" and config.export_dtype == "float16"


def test_unknown_fields_and_bad_values_are_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("task: cd-siamese\nepochz: 3\n")
    with pytest.raises(TrainConfigError, match="epochz"):
        load_train_config(path)
    path.write_text("task: cd-siamese\nlr: -1\n")
    with pytest.raises(TrainConfigError, match="lr"):
        load_train_config(path)
    path.write_text("- not a mapping\n")
    with pytest.raises(TrainConfigError, match="mapping"):
        load_train_config(path)
    with pytest.raises(TrainConfigError, match="not found"):
        load_train_config(tmp_path / "missing.yaml")


def test_base_recipe_is_merged_key_by_key_and_cycles_are_refused(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "task: difftracker\nepochs: 4\ntask_options:\n  model: {d_model: 96, heads: 4}\n"
    )
    (tmp_path / "child.yaml").write_text("base: base.yaml\nlr: 0.5\ntask_options:\n  model: {heads: 2}\n")
    config = load_train_config(tmp_path / "child.yaml")
    assert (config.epochs, config.lr) == (4, 0.5)
    assert config.task_options == {"model": {"d_model": 96, "heads": 2}}
    (tmp_path / "loop.yaml").write_text("base: loop.yaml\ntask: difftracker\n")
    with pytest.raises(TrainConfigError, match="cycle"):
        load_train_config(tmp_path / "loop.yaml")
    (tmp_path / "orphan.yaml").write_text("base: missing.yaml\ntask: difftracker\n")
    with pytest.raises(TrainConfigError, match="missing.yaml not found"):
        load_train_config(tmp_path / "orphan.yaml")


def test_schedule_warms_up_then_decays_to_the_floor() -> None:
    factors = [warmup_cosine_factor(step, 100, 10, 0.1) for step in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[9:], factors[10:], strict=False))
    assert warmup_cosine_factor(100, 100, 10, 0.1) == pytest.approx(0.1)
    assert warmup_cosine_factor(0, 10, 0, 0.0) == pytest.approx(1.0)
