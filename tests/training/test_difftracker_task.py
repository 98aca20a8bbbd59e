"""`harness train` for DiffTracker and its controls: one recipe for the family, checkpoints that
hold only what training changed, the adapter reproducing the recorded val score, and DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from safetensors import safe_open

from harness.cli import main
from tests.difftracker.conftest import tiny_model_options

REPO = Path(__file__).resolve().parents[2]


def write_difftracker_config(path: Path, text_encoder: Path, **overrides) -> Path:
    config = {
        "task": "difftracker",
        "epochs": 2,
        "batch_size": 2,
        "lr": 0.001,
        "warmup_steps": 2,
        "seed": 0,
        "cpu_threads": 1,
        "grad_clip": 0.1,
        "task_options": {
            "model": tiny_model_options(text_encoder),
            "reference_queries": 4,
            "loader_threads": 1,
        },
    }
    config.update(overrides)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_control_trains_with_the_difftracker_recipe_and_the_adapter_reproduces_it(
    tiny_synth: Path,
    tiny_text_encoder: Path,
    tmp_path: Path,
) -> None:
    from rich.console import Console

    from harness.run.run_config import RunConfig
    from harness.run.runner import run_evaluation
    from idg_adapters.difftracker import LateFusion

    config = write_difftracker_config(tmp_path / "dt.yaml", tiny_text_encoder)
    out = tmp_path / "late"
    assert main(["train", "late-fusion", "--config", str(config), "--dataset", str(tiny_synth), "--output", str(out),
                 "--device", "cpu"]) == 0  # fmt: skip
    provenance = json.loads((out / "export" / "provenance.json").read_text())
    assert provenance["task"] == "late-fusion" and provenance["model"]["variant"] == "late-fusion"
    assert provenance["model"]["config"]["fusion"] == "late"
    rows = json.loads((out / "log.json").read_text())
    parts = {"train_l1", "train_giou", "train_difference", "train_referring", "train_token_referring"}
    assert all(parts <= set(row) and row["train_l1"] > 0 for row in rows)  # each loss part logged per epoch
    assert provenance["config"]["task"] == "late-fusion"
    with safe_open(str(out / "export" / "model.safetensors"), framework="pt") as handle:
        keys = list(handle.keys())
    assert keys and not any(k.startswith("visual.backbone.") for k in keys)  # frozen backbone not stored

    # The adapter, fed the val samples through the runner, scores what validation recorded.
    adapter_options = {"late-fusion": {"weights": str(out / "export" / "model.safetensors")}}
    assert LateFusion(**adapter_options["late-fusion"]).weights_path.is_file()
    config = RunConfig(models=["late-fusion"], split="val", dataset=tiny_synth, output_dir=tmp_path / "runs",
                       adapter_options=adapter_options, batch_size=2, device="cpu")  # fmt: skip
    result = run_evaluation(config, Console(quiet=True))
    metrics = json.loads((result.run_dir / "late-fusion" / "metrics.json").read_text())["metrics"]
    assert metrics["n"] == provenance["val"]["queries"]
    assert metrics["overall"]["acc@0.5"]["value"] == pytest.approx(provenance["val"]["acc50"], abs=1e-9)
    assert metrics["overall"]["miou"]["value"] == pytest.approx(provenance["val"]["miou"], abs=1e-5)


def test_a_config_of_another_model_is_refused(tiny_synth: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"task": "cd-siamese"}), encoding="utf-8")
    assert main(["train", "difftracker", "--config", str(config), "--dataset", str(tiny_synth)]) != 0


@pytest.mark.slow
def test_two_process_ddp_training(tiny_synth: Path, tiny_text_encoder: Path, tmp_path: Path) -> None:
    config = write_difftracker_config(tmp_path / "dt.yaml", tiny_text_encoder, epochs=1, batch_size=1)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "harness",
           "train", "difftracker", "--config", str(config), "--dataset", str(tiny_synth),
           "--output", str(tmp_path / "ddp"), "--device", "cpu"]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    provenance = json.loads((tmp_path / "ddp" / "export" / "provenance.json").read_text())
    assert provenance["world_size"] == 2 and provenance["steps"] >= 1
    assert 0.0 <= provenance["val"]["acc50"] <= 1.0 and provenance["val"]["queries"] > 0


@pytest.mark.parametrize("recipe", sorted(p.name for p in (REPO / "difftracker" / "configs").glob("*.yaml")))
def test_bundled_recipes_are_valid_for_every_variant(recipe: str) -> None:
    from difftracker.config import VARIANTS
    from harness.training.config import load_train_config
    from harness.training.difftracker_task import DiffTrackerOptions
    from harness.training.train_command import DIFFTRACKER_CONFIGS

    config = load_train_config(DIFFTRACKER_CONFIGS / recipe)
    assert config.task == "difftracker"
    options = DiffTrackerOptions(**config.task_options)
    for variant in VARIANTS:
        from difftracker.config import variant_config

        built = variant_config(variant, options.model)
        assert built.fusion == VARIANTS[variant].overrides["fusion"]


@pytest.mark.parametrize(
    ("recipe", "changed"),
    [("ablation-dem-diff-only.yaml", {"dem": "diff-only"}), ("ablation-dem-last.yaml", {"dem_stages": "last"})],
)
def test_dem_ablation_recipes_differ_from_synth_cpu_only_in_the_dem(recipe: str, changed: dict) -> None:
    import dataclasses

    from harness.training.config import load_train_config
    from harness.training.train_command import DIFFTRACKER_CONFIGS

    base = load_train_config(DIFFTRACKER_CONFIGS / "synth-cpu.yaml")
    ablation = load_train_config(DIFFTRACKER_CONFIGS / recipe)
    assert ablation.task_options["model"] == {**base.task_options["model"], **changed}
    assert dataclasses.replace(ablation, task_options=base.task_options) == base
