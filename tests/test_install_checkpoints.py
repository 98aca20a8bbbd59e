"""scripts/install_checkpoints.py: trained folders become the committed checkpoint files, with the
training dataset's generator config recorded; nothing is installed when any model is not ready."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.data.manifest import dataset_fingerprint
from harness.data.synth import SynthConfig, generate_dataset
from tests.script_module import load_script


def _load_script():
    return load_script("install_checkpoints")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data") / "synth"
    config = SynthConfig(seed=3, n_train=6, n_val=4, n_test=0, n_test_novel=0, n_test_robust=0)
    generate_dataset(root, config)
    return root


def _trained(root: Path, model: str, dataset: Path, variant: str | None = None) -> Path:
    folder = root / model
    (folder / "export").mkdir(parents=True)
    (folder / "export" / "model.safetensors").write_bytes(b"weights of " + model.encode())
    provenance = {
        "model": {"variant": variant or model},
        "dataset": {"path": str(dataset), "fingerprint": dataset_fingerprint(dataset)},
        "val": {"acc50": 0.5, "reference_acc50": 0.5},
        "epoch": 6,
        "train_seconds": 120.0,
    }
    (folder / "export" / "provenance.json").write_text(json.dumps(provenance))
    (folder / "log.csv").write_text("epoch,val_acc50\n1,0.5\n")
    (folder / "curve.png").write_bytes(b"png")
    return folder


def test_installs_files_and_records_the_generator(tmp_path: Path, dataset: Path) -> None:
    script = _load_script()
    for model in ("difftracker", "late-fusion"):
        _trained(tmp_path / "train", model, dataset)
    dest = tmp_path / "checkpoints"
    dest.mkdir()
    lines = script.install(tmp_path / "train", ["difftracker", "late-fusion"], dest)
    assert lines[0] == "difftracker: val Acc@0.5 50.0 (epoch 6, 2.0 min)"
    assert (dest / "late-fusion-synth.safetensors").read_bytes() == b"weights of late-fusion"
    assert (dest / "late-fusion-synth-log.csv").is_file() and (dest / "late-fusion-synth-curve.png").is_file()
    generator = json.loads((dest / "difftracker-synth.json").read_text())["dataset"]["generator"]
    assert generator["name"] == "diffground-synth"
    assert generator["config"]["seed"] == 3 and generator["config"]["version"] == 2


def test_a_missing_model_installs_nothing(tmp_path: Path, dataset: Path) -> None:
    script = _load_script()
    _trained(tmp_path / "train", "difftracker", dataset)
    dest = tmp_path / "checkpoints"
    dest.mkdir()
    assert script.main([str(tmp_path / "train"), "--models", "difftracker", "mdetr-style", "--dest", str(dest)]) == 1
    assert list(dest.iterdir()) == []


def test_refuses_a_changed_dataset_and_a_wrong_variant(tmp_path: Path, dataset: Path) -> None:
    script = _load_script()
    folder = _trained(tmp_path / "train", "difftracker", dataset)
    provenance = json.loads((folder / "export" / "provenance.json").read_text())
    provenance["dataset"]["fingerprint"] = "0" * 64
    (folder / "export" / "provenance.json").write_text(json.dumps(provenance))
    with pytest.raises(script.InstallError, match="trained on 000000000000"):
        script.planned_copies(tmp_path / "train", "difftracker")
    _trained(tmp_path / "train", "late-fusion", dataset, variant="early-fusion")
    with pytest.raises(script.InstallError, match="model.variant is 'early-fusion'"):
        script.planned_copies(tmp_path / "train", "late-fusion")
