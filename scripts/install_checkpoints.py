#!/usr/bin/env python3
"""Install trained DiffTracker-family checkpoints as the committed ones (adapters/checkpoints/).

    scripts/install_checkpoints.py TRAIN_ROOT [--models M ...] [--dest adapters/checkpoints] [--ranking R]

For each model, TRAIN_ROOT/<model>/ is what `harness train <model> --output TRAIN_ROOT/<model>`
wrote (scripts/train_difftracker_family.sh makes one per model). It copies

    export/model.safetensors -> <model>-synth.safetensors
    export/provenance.json   -> <model>-synth.json
    log.csv, curve.png       -> <model>-synth-log.csv, <model>-synth-curve.png

and records in the JSON the generator config of the training dataset (`dataset.generator`, from
its dataset.json, after checking that the dataset on disk still has the recorded fingerprint), so a
test can regenerate the val pairs the checkpoint was scored on
(tests/adapters/test_difftracker_adapter.py). Every model is checked before anything is copied:
a missing or unfinished training installs nothing.

`--ranking R` installs the checkpoints ranking their final boxes by R (difftracker/ranking.py)
instead of the ranking they were trained and validated with: the ranking is an inference setting
(training uses it only to score val and pick the best epoch), so one chosen after training on a
separate val split needs no retraining. The JSON's `model.config.ranking` becomes R, `val` is
re-scored under R on the training dataset's val split, and `ranking_after_training` keeps what it
was trained with and the val score under that ranking.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


class InstallError(RuntimeError):
    """A training folder that cannot be installed (the message names the file and what is wrong)."""


@cache
def _fingerprint(dataset: Path) -> str:
    """Hashes every file of the dataset: once per dataset, however many models trained on it."""
    from harness.data.manifest import dataset_fingerprint

    return dataset_fingerprint(dataset)


def _dataset_generator(provenance: dict[str, Any], source: Path) -> dict[str, Any]:
    recorded = provenance.get("dataset") or {}
    path = Path(recorded.get("path", ""))
    if not path.is_absolute():
        path = Path.cwd() / path
    description = path / "dataset.json"
    if not description.is_file():
        raise InstallError(f"{source}: its training dataset {path} has no dataset.json")
    fingerprint = _fingerprint(path.resolve())
    if fingerprint != recorded.get("fingerprint"):
        raise InstallError(
            f"{source}: dataset {path} has fingerprint {fingerprint[:12]}..., the checkpoint was trained on "
            f"{str(recorded.get('fingerprint'))[:12]}... (regenerate that dataset first)"
        )
    generator = json.loads(description.read_text())["generator"]
    return {"name": generator["name"], "version": generator["version"], "config": generator["config"]}


def planned_copies(train_root: Path, model: str) -> tuple[list[tuple[Path, str]], dict[str, Any]]:
    """The (source, destination name) pairs for one model and its provenance with `dataset.generator`."""
    folder = train_root / model
    weights = folder / "export" / "model.safetensors"
    provenance_file = folder / "export" / "provenance.json"
    for required in (weights, provenance_file, folder / "log.csv", folder / "curve.png"):
        if not required.is_file():
            raise InstallError(f"{required} is missing: has `harness train {model}` finished there?")
    provenance = json.loads(provenance_file.read_text())
    variant = (provenance.get("model") or {}).get("variant")
    if variant != model:
        raise InstallError(f"{provenance_file}: model.variant is {variant!r}, expected {model!r}")
    if "val" not in provenance or "reference_acc50" not in provenance["val"]:
        raise InstallError(f"{provenance_file}: no val score (an export interrupted before scoring?)")
    provenance["dataset"]["generator"] = _dataset_generator(provenance, provenance_file)
    copies = [
        (weights, f"{model}-synth.safetensors"),
        (folder / "log.csv", f"{model}-synth-log.csv"),
        (folder / "curve.png", f"{model}-synth-curve.png"),
    ]
    return copies, provenance


def rescored_under_ranking(provenance: dict[str, Any], weights: Path, ranking: str) -> dict[str, Any]:
    """`provenance` with the model ranking its boxes by `ranking` and `val` re-scored under it (the
    same val split, queries and scoring as the training's, by the same task code)."""
    import torch

    from difftracker.config import DiffTrackerConfig
    from harness.training.checkpoint import load_model_weights
    from harness.training.task import get_task_class

    trained_with = provenance["model"]["config"].get("ranking", "decoder")
    options = copy.deepcopy(provenance["config"]["task_options"])
    options.setdefault("model", {})["ranking"] = ranking
    options["max_train_pairs"] = 1  # scoring never trains; the head vocabulary comes from the checkpoint
    task = get_task_class(provenance["task"])(options, Path(provenance["dataset"]["path"]), provenance["seed"])
    task.prepare()
    task.config = DiffTrackerConfig.from_dict({**provenance["model"]["config"], "ranking": ranking})
    model = task.build_model()
    task.load_checkpoint_state(model, load_model_weights(weights))
    model.eval()
    with torch.no_grad():
        val = task.validation_scores(task.validation_counts(model, lambda items: items, torch.device("cpu")))
    out = copy.deepcopy(provenance)
    out["model"]["config"]["ranking"] = ranking
    out["ranking_after_training"] = {"trained_with": trained_with, "val_under_trained_ranking": provenance["val"]}
    out["val"] = val
    return out


def install(train_root: Path, models: list[str], dest: Path, ranking: str | None = None) -> list[str]:
    """Check every model, then copy them all; returns one summary line per model."""
    if not dest.is_dir():
        raise InstallError(f"destination {dest} is not a folder")
    plans = {model: planned_copies(train_root, model) for model in models}
    if ranking:  # copies[0] is the exported weights
        plans = {
            m: (copies, rescored_under_ranking(prov, copies[0][0], ranking)) for m, (copies, prov) in plans.items()
        }
    lines = []
    for model, (copies, provenance) in plans.items():
        for source, name in copies:
            shutil.copyfile(source, dest / name)
        (dest / f"{model}-synth.json").write_text(json.dumps(provenance, indent=2, sort_keys=True) + "\n")
        val = provenance["val"]
        before = provenance.get("ranking_after_training")
        ranked = (
            f", ranking {provenance['model']['config']['ranking']}; "
            f"{100 * before['val_under_trained_ranking']['acc50']:.1f} under {before['trained_with']}"
            if before
            else ""
        )
        lines.append(
            f"{model}: val Acc@0.5 {100 * val['acc50']:.1f} (epoch {provenance.get('epoch')}, "
            f"{provenance.get('train_seconds', 0) / 60:.1f} min{ranked})"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train_root", type=Path, help="folder with one `harness train --output` folder per model")
    from difftracker.config import VARIANTS

    parser.add_argument("--models", nargs="+", default=list(VARIANTS), help="which models (default: all six)")
    parser.add_argument("--dest", type=Path, default=REPO / "adapters" / "checkpoints")
    from difftracker.ranking import RANKINGS

    parser.add_argument(
        "--ranking",
        choices=RANKINGS,
        help="rank the final boxes by this instead of the trained ranking (val re-scored)",
    )
    args = parser.parse_args(argv)
    try:
        for line in install(args.train_root, args.models, args.dest, args.ranking):
            print(line)
    except InstallError as error:
        print(f"install_checkpoints: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
