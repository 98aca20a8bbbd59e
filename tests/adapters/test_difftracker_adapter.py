"""DiffTracker and its controls as adapters: each committed checkpoint is small, carries its
provenance, and reproduces the val score recorded for its first val queries; missing weights
make a model unavailable with the command that trains it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torchvision.ops import box_iou

from difftracker.config import VARIANTS
from harness.data.images import load_pair
from harness.data.synth import SynthConfig, generate_dataset
from harness.training.grounding_pairs import grounding_pairs
from idg_adapters.base import AdapterUnavailable, PairInput
from idg_adapters.checkpoint_files import CHECKPOINT_DIR
from idg_adapters.registry import create_adapter

FAMILY = sorted(VARIANTS)


@pytest.fixture(scope="module")
def first_val_queries(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict], Path]:
    """The first val pairs of the dataset a checkpoint was trained on, by its provenance.

    Pair seeds derive from (seed, split, index), so the first val pairs of a short split are those
    of the full dataset the checkpoint was validated on. `dataset.generator` (recorded by
    scripts/install_checkpoints.py) gives the generator config; checkpoints installed before it
    was recorded were trained on DiffGround-Synth 1.0.0 with seed 0.
    """
    made: dict[str, Path] = {}

    def make(provenance: dict) -> Path:
        recorded = (provenance["dataset"].get("generator") or {}).get("config", {"version": 1, "seed": 0})
        fields = {k: v for k, v in recorded.items() if k in SynthConfig.__dataclass_fields__}
        config = SynthConfig(**fields | {"n_train": 0, "n_val": 90, "n_test": 0, "n_test_novel": 0, "n_test_robust": 0})
        key = json.dumps(fields, sort_keys=True)
        if key not in made:
            made[key] = tmp_path_factory.mktemp("val") / "synth"
            generate_dataset(made[key], config)
        return made[key]

    return make


def test_committed_checkpoints_are_small_and_have_provenance() -> None:
    total = 0
    for name in FAMILY:
        weights = CHECKPOINT_DIR / f"{name}-synth.safetensors"
        total += weights.stat().st_size
        provenance = json.loads(weights.with_suffix(".json").read_text())
        for key in ("config", "command", "git_sha", "dataset", "seed", "val", "model", "reference_queries"):
            assert key in provenance, (name, key)
        assert provenance["model"]["variant"] == name and provenance["weights_dtype"] == "float16"
        assert provenance["config"]["task_options"].get("max_val_pairs") is None
    assert total <= 15 * 2**20, f"the six checkpoints take {total / 2**20:.1f} MB"


@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILY)
def test_committed_checkpoint_reproduces_its_reference_val_score(
    name: str, first_val_queries: Callable[[dict], Path]
) -> None:
    provenance = json.loads((CHECKPOINT_DIR / f"{name}-synth.json").read_text())
    val_root = first_val_queries(provenance)
    reference = provenance["reference_queries"]
    adapter = create_adapter(name)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        adapter.load("cpu")
        hits, ious, seen = 0, [], []
        for pair in grounding_pairs(val_root, "val"):
            image_a, image_b = load_pair(val_root, pair.image_a, pair.image_b)
            for query in pair.queries:
                if len(seen) == len(reference):
                    break
                (prediction,) = adapter.predict([PairInput(query.sample_id, image_a, image_b, query.query)])
                width, height = image_b.size
                target = torch.tensor([pair.boxes[query.referred]]) * torch.tensor([width, height, width, height])
                iou = float(box_iou(torch.as_tensor(prediction.boxes[:1]), target)[0, 0])
                hits += iou >= 0.5
                ious.append(iou)
                seen.append(query.sample_id)
    finally:
        torch.set_num_threads(threads)
    assert seen == reference
    assert hits / len(seen) == pytest.approx(provenance["val"]["reference_acc50"], abs=1.01 / len(seen))
    assert sum(ious) / len(ious) == pytest.approx(provenance["val"]["reference_miou"], abs=2e-3)


def test_unavailable_without_weights_names_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(AdapterUnavailable, match="not found") as info:
        create_adapter("late-fusion", weights=str(tmp_path / "none.safetensors")).load("cpu")
    assert "harness train late-fusion" in info.value.how_to_enable


def test_weights_of_another_variant_are_refused(tmp_path: Path) -> None:
    weights = CHECKPOINT_DIR / "mdetr-style-synth.safetensors"
    with pytest.raises(AdapterUnavailable, match="mdetr-style"):
        create_adapter("difftracker", weights=str(weights)).load("cpu")
    with pytest.raises(ValueError, match="max_boxes"):
        create_adapter("difftracker", max_boxes=0)


def test_weights_without_a_finished_provenance_are_refused(tmp_path: Path) -> None:
    weights = tmp_path / "cut-short.safetensors"
    shutil.copy(CHECKPOINT_DIR / "difftracker-synth.safetensors", weights)
    weights.with_suffix(".json").write_text("{}\n")
    with pytest.raises(AdapterUnavailable, match="no 'model' entry") as info:
        create_adapter("difftracker", weights=str(weights)).load("cpu")
    assert "harness train difftracker" in info.value.how_to_enable
