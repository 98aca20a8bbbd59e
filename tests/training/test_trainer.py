"""`harness train cd-siamese` end to end on a tiny dataset: outputs, provenance, resume, DDP, refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from harness.cli import main
from harness.data.manifest import dataset_fingerprint
from harness.training.checkpoint import load_model_weights
from harness.training.config import TrainConfig
from harness.training.trainer import ResumeError, train
from tests.tiny_dataset import write_tiny_dataset
from tests.training.conftest import tiny_config, write_config

REPO = Path(__file__).resolve().parents[2]


def test_train_writes_checkpoints_log_and_provenance(tiny_synth: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = main(["train", "cd-siamese", "--config", str(write_config(tmp_path / "c.yaml")), "--dataset", str(tiny_synth),
                 "--output", str(out), "--device", "cpu", "--threads", "2"])  # fmt: skip
    assert code == 0
    for rel in ("best/model.safetensors", "last/optimizer.safetensors", "export/model.safetensors", "curve.png"):
        assert (out / rel).is_file(), rel
    assert not (out / "export.partial").exists()  # built aside, renamed into place once complete
    rows = json.loads((out / "log.json").read_text())
    assert [row["epoch"] for row in rows] == [1, 2]
    assert (out / "log.csv").read_text().splitlines()[0].startswith("epoch,step,lr,train_loss,val_iou")
    provenance = json.loads((out / "export" / "provenance.json").read_text())
    assert provenance["dataset"]["fingerprint"] == dataset_fingerprint(tiny_synth)
    assert provenance["seed"] == 0 and provenance["weights_dtype"] == "float16"
    assert provenance["model"] == {"network": {"channels": [4, 8]}, "image_size": 64}
    assert provenance["config"]["task"] == "cd-siamese" and isinstance(provenance["command"], list)
    assert provenance["config"]["cpu_threads"] == 2  # --threads overrides the recipe (1) and is recorded
    assert 0.0 <= provenance["val"]["iou"] <= 1.0 and len(provenance["reference_pairs"]) == 2
    best_epoch = max(rows, key=lambda row: row["val_iou"])["epoch"]
    assert provenance["epoch"] == best_epoch


def test_resume_continues_from_the_last_checkpoint(tiny_synth: Path, tmp_path: Path) -> None:
    straight = train(TrainConfig(**tiny_config(epochs=2)), tiny_synth, tmp_path / "straight", device="cpu")
    stopped = train(TrainConfig(**tiny_config(epochs=2)), tiny_synth, tmp_path / "split", device="cpu", stop_after=1)
    assert stopped.epochs_run == 1 and stopped.exported is None
    resumed = train(TrainConfig(**tiny_config(epochs=2)), tiny_synth, tmp_path / "split", resume=True, device="cpu")
    assert resumed.epochs_run == 1 and resumed.steps == straight.steps
    want = load_model_weights(tmp_path / "straight" / "last")
    got = load_model_weights(tmp_path / "split" / "last")
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-5, atol=1e-6, msg=name)
    rows = json.loads((tmp_path / "split" / "log.json").read_text())
    assert [row["epoch"] for row in rows] == [1, 2]


def test_resume_refuses_a_different_config(tiny_synth: Path, tmp_path: Path) -> None:
    with pytest.raises(ResumeError, match="no checkpoint"):
        train(TrainConfig(**tiny_config()), tiny_synth, tmp_path / "none", resume=True, device="cpu")
    train(TrainConfig(**tiny_config(epochs=1)), tiny_synth, tmp_path / "run", device="cpu")
    with pytest.raises(ResumeError, match="seed"):
        train(TrainConfig(**tiny_config(epochs=2, seed=1)), tiny_synth, tmp_path / "run", resume=True, device="cpu")


def test_evaluation_only_dataset_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    dataset = tmp_path / "eval-only"
    write_tiny_dataset(dataset)  # test split only
    code = main(["train", "cd-siamese", "--config", str(write_config(tmp_path / "c.yaml")), "--dataset", str(dataset),
                 "--output", str(tmp_path / "out")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "evaluation-only" in err and "no 'train' split" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_two_process_ddp_training(tiny_synth: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.yaml", epochs=1, batch_size=1)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "harness",
           "train", "cd-siamese", "--config", str(config), "--dataset", str(tiny_synth),
           "--output", str(tmp_path / "ddp"), "--device", "cpu"]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    provenance = json.loads((tmp_path / "ddp" / "export" / "provenance.json").read_text())
    assert provenance["world_size"] == 2
    rows = json.loads((tmp_path / "ddp" / "log.json").read_text())
    # Each of the 2 processes takes batch_size=1 pair per step: an epoch is pairs // 2 steps.
    assert rows[0]["step"] == provenance["steps"] >= 1
