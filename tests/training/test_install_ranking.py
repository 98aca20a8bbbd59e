"""scripts/install_checkpoints.py --ranking: a trained DiffTracker installed with another ranking of its
final boxes records the new ranking and a val score re-scored under it, which the adapter reproduces
through the runner; re-scoring under the trained ranking gives back the training's own val score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.script_module import load_script
from tests.training.test_difftracker_task import write_difftracker_config


@pytest.mark.slow
def test_install_with_another_ranking_rescores_val(tiny_synth: Path, tiny_text_encoder: Path, tmp_path: Path) -> None:
    from rich.console import Console

    from harness.run.run_config import RunConfig
    from harness.run.runner import run_evaluation

    script = load_script("install_checkpoints")
    config = write_difftracker_config(tmp_path / "dt.yaml", tiny_text_encoder, epochs=1)
    train_root = tmp_path / "train"
    assert main(["train", "difftracker", "--config", str(config), "--dataset", str(tiny_synth),
                 "--output", str(train_root / "difftracker"), "--device", "cpu"]) == 0  # fmt: skip
    trained = json.loads((train_root / "difftracker" / "export" / "provenance.json").read_text())
    assert trained["model"]["config"].get("ranking", "decoder") == "decoder"  # omitted at its default

    # Re-scoring under the ranking it was trained with reproduces the training's val score.
    same = script.rescored_under_ranking(
        trained, train_root / "difftracker" / "export" / "model.safetensors", "decoder"
    )
    assert same["val"]["acc50"] == trained["val"]["acc50"]
    assert same["val"]["miou"] == pytest.approx(trained["val"]["miou"], abs=1e-6)

    dest = tmp_path / "checkpoints"
    dest.mkdir()
    lines = script.install(train_root, ["difftracker"], dest, ranking="tokens")
    assert "ranking tokens" in lines[0] and "under decoder" in lines[0]
    installed = json.loads((dest / "difftracker-synth.json").read_text())
    assert installed["model"]["config"]["ranking"] == "tokens"
    assert installed["ranking_after_training"] == {
        "trained_with": "decoder",
        "val_under_trained_ranking": trained["val"],
    }
    assert installed["val"]["queries"] == trained["val"]["queries"]

    # The adapter on the installed files ranks by tokens and scores the re-scored val.
    options = {"difftracker": {"weights": str(dest / "difftracker-synth.safetensors")}}
    run = RunConfig(models=["difftracker"], split="val", dataset=tiny_synth, output_dir=tmp_path / "runs",
                    adapter_options=options, batch_size=2, device="cpu")  # fmt: skip
    result = run_evaluation(run, Console(quiet=True))
    metrics = json.loads((result.run_dir / "difftracker" / "metrics.json").read_text())["metrics"]
    assert metrics["overall"]["acc@0.5"]["value"] == pytest.approx(installed["val"]["acc50"], abs=1e-9)
    assert metrics["overall"]["miou"]["value"] == pytest.approx(installed["val"]["miou"], abs=1e-5)


def test_a_missing_destination_is_refused(tmp_path: Path) -> None:
    script = load_script("install_checkpoints")
    with pytest.raises(script.InstallError, match="is not a folder"):
        script.install(tmp_path / "train", ["difftracker"], tmp_path / "nowhere")
