"""Loading model weights safely: safetensors, or torch files with `weights_only=True`.

Never unpickles arbitrary objects, so a checkpoint from the internet cannot run code. Adapters
and DiffTracker load every local weights file through here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

SAFETENSORS_SUFFIXES = (".safetensors",)
TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
_KNOWN_SUFFIXES = ", ".join(SAFETENSORS_SUFFIXES + TORCH_SUFFIXES)


CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
"""The checkpoints committed with the code (trained by `harness train`, provenance JSON beside each)."""


def resolve_weights(value: str) -> Path:
    """A bare name resolves against CHECKPOINT_DIR, so the defaults work from any directory."""
    path = Path(value).expanduser()
    if not path.is_absolute() and not path.exists() and (CHECKPOINT_DIR / path).exists():
        return CHECKPOINT_DIR / path
    return path


def provenance_path(weights: Path) -> Path:
    """The JSON beside the weights: `X.safetensors` -> `X.json` (or provenance.json in its folder)."""
    beside = weights.with_suffix(".json")
    return beside if beside.is_file() else weights.parent / "provenance.json"


def weights_path_problem(path: Path, option: str) -> str | None:
    """Why `path` cannot be a weights file (missing, or a folder), or None when it is a file.

    `option` is the `--opt` key that named it (e.g. `cd-siamese.weights`), so the message says
    what to change.
    """
    path = Path(path)
    if path.is_dir():
        return (
            f"weights path {path} (--opt {option}) is a folder; a weights file is expected "
            f"({', '.join(SAFETENSORS_SUFFIXES + TORCH_SUFFIXES)})"
        )
    if not path.is_file():
        return f"weights file {path} (--opt {option}) not found"
    return None


def provenance_model_spec(weights: Path, keys: tuple[str, ...], model_name: str) -> dict[str, Any]:
    """The `model` entry of the provenance JSON beside `weights`; AdapterUnavailable when it is
    missing, not JSON, or lacks one of `keys` (a hand-made or unfinished export of `model_name`)."""
    import json

    from idg_adapters.base import AdapterUnavailable

    source = provenance_path(Path(weights))
    how = f"keep the provenance JSON written by `harness train {model_name}` beside the weights, unedited"
    try:
        provenance = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AdapterUnavailable(
            f"provenance file {source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", how
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise AdapterUnavailable(f"cannot read provenance file {source} ({exc})", how) from exc
    spec = provenance.get("model") if isinstance(provenance, dict) else None
    if not isinstance(spec, dict) or any(key not in spec for key in keys):
        raise AdapterUnavailable(
            f"{source} does not describe a model (no 'model' entry): not a finished `harness train` export",
            f"pass weights exported by `harness train {model_name}` with their provenance JSON",
        )
    return spec


def provenance_training_data(weights: Path) -> dict[str, Any] | None:
    """The `dataset` entry (fingerprint, path) of the provenance JSON beside `weights`, or None."""
    import json

    try:
        provenance = json.loads(provenance_path(Path(weights)).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    dataset = provenance.get("dataset") if isinstance(provenance, dict) else None
    return dict(dataset) if isinstance(dataset, dict) and dataset.get("fingerprint") else None


class CheckpointError(Exception):
    """A weights file is missing, of an unknown kind, or refused as unsafe."""


def load_state_dict(path: Path, map_location: str = "cpu") -> dict[str, Any]:
    """Tensors by name from a `.safetensors` file or a torch file holding only tensors/containers.

    Torch files are read with `weights_only=True`: pickled code (custom classes, `__reduce__`
    tricks) is refused with CheckpointError instead of being executed.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder; a weights file is expected ({_KNOWN_SUFFIXES})")
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS_SUFFIXES:
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device=map_location)
        except Exception as exc:  # safetensors raises its own error types
            raise CheckpointError(f"{path}: not a valid safetensors file ({exc})") from exc
    if suffix in TORCH_SUFFIXES:
        import pickle

        import torch

        try:
            state = torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as exc:
            detail = _unpickler_reason(str(exc))
            raise CheckpointError(
                f"{path}: refused to load: the weights-only unpickler rejected it ({detail or 'not a torch file'}); "
                "it holds pickled objects other than tensors, or is not a checkpoint. Convert it to "
                "safetensors, or re-save only its state_dict"
            ) from exc
        except (RuntimeError, EOFError, OSError) as exc:
            raise CheckpointError(f"{path}: cannot read torch checkpoint ({exc})") from exc
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]  # Lightning / mmdet style wrappers
        if not isinstance(state, dict):
            raise CheckpointError(f"{path}: expected a dict of tensors, got {type(state).__name__}")
        return state
    raise CheckpointError(f"{path}: unknown weights format {suffix!r}; use .safetensors or one of {TORCH_SUFFIXES}")


# A state dict that does not fit names this many keys of each kind; the counts are always exact.
KEYS_SHOWN = 5


def load_matching_state_dict(model: Any, state: dict[str, Any], source: Path, what: str) -> None:
    """`model.load_state_dict(state)`, or CheckpointError summarising why `state` does not fit.

    torch's own error lists every key (thousands for another architecture); this one gives the
    number of missing, unexpected and wrongly shaped keys with the first few of each.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    reshaped = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and hasattr(state[k], "shape") and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or reshaped:
        parts = [
            f"{label} {len(keys)} (e.g. {', '.join(keys[:KEYS_SHOWN])})"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", reshaped))
            if keys
        ]
        raise CheckpointError(f"{source}: does not fit {what}: {'; '.join(parts)}")
    model.load_state_dict(state)


def _unpickler_reason(message: str) -> str:
    """The line of torch's weights-only error that says what was refused, without its advice to
    load with weights_only=False (which is exactly what must not happen)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    boilerplate = ("Weights only load failed", "Please file an issue", "Check the documentation")
    reasons = [
        line.removeprefix("WeightsUnpickler error:").strip()
        for line in lines
        if not line.startswith(boilerplate) and "weights_only" not in line
    ]
    return next((r for r in reversed(reasons) if r), "")


def weights_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Content hash of a weights file or directory (sorted files), for adapter fingerprints."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode() + b"\0")
        with file.open("rb") as fh:
            while block := fh.read(chunk):
                digest.update(block)
    return digest.hexdigest()
