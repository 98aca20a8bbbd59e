"""Training checkpoints as safetensors + JSON: never a pickle, so loading one cannot run code.

A checkpoint folder holds `model.safetensors` and `provenance.json` (config, command, git SHA,
data fingerprint, seed, val score); the `last/` folder adds `optimizer.safetensors` and
`trainer_state.json` so a run can resume where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from harness.files.atomic import write_atomic
from idg_adapters.checkpoint_files import load_state_dict

MODEL_FILE = "model.safetensors"
PROVENANCE_FILE = "provenance.json"
OPTIMIZER_FILE = "optimizer.safetensors"
TRAINER_STATE_FILE = "trainer_state.json"
DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


def write_json(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    write_atomic(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], dtype: str | None = None) -> None:
    """Write tensors to safetensors; floating tensors are cast to `dtype` when given."""
    from safetensors.torch import save_file

    target = DTYPES[dtype] if dtype else None
    out = {}
    for name, tensor in tensors.items():
        tensor = tensor.detach().cpu()
        if target is not None and tensor.is_floating_point():
            tensor = tensor.to(target)
        out[name] = tensor.contiguous()
    write_atomic(Path(path), lambda tmp: save_file(out, str(tmp)))


def save_model_checkpoint(
    folder: Path, state_dict: dict[str, torch.Tensor], provenance: dict[str, Any], dtype: str | None = None
) -> None:
    save_tensors(Path(folder) / MODEL_FILE, state_dict, dtype)
    write_json(Path(folder) / PROVENANCE_FILE, provenance)


def load_model_weights(folder_or_file: Path) -> dict[str, torch.Tensor]:
    """Weights as float32 (exported checkpoints may be float16), through the safe loader."""
    path = Path(folder_or_file)
    if path.is_dir():
        path = path / MODEL_FILE
    return {k: v.float() if v.is_floating_point() else v for k, v in load_state_dict(path).items()}


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def save_training_state(folder: Path, optimizer: torch.optim.Optimizer, trainer_state: dict[str, Any]) -> None:
    """Optimizer tensors into safetensors (flattened as state.<param>.<name>), the rest as JSON."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, slots in state["state"].items():
        for name, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = value
    save_tensors(Path(folder) / OPTIMIZER_FILE, tensors)
    write_json(
        Path(folder) / TRAINER_STATE_FILE,
        {**trainer_state, "optimizer": {"param_groups": state["param_groups"], "scalars": scalars}},
    )


def load_training_state(folder: Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore the optimizer from `folder` and return the trainer state saved with it."""
    folder = Path(folder)
    trainer_state = read_json(folder / TRAINER_STATE_FILE)
    saved = trainer_state.pop("optimizer")
    tensors = load_state_dict(folder / OPTIMIZER_FILE)
    slots: dict[int, dict[str, Any]] = {}
    for key, tensor in tensors.items():
        _, index, name = key.split(".", 2)
        slots.setdefault(int(index), {})[name] = tensor
    for index, values in saved["scalars"].items():
        slots.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict({"state": slots, "param_groups": saved["param_groups"]})
    return trainer_state
