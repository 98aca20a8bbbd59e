"""Weights load from safetensors or weights-only torch files; pickled code is refused, not run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from idg_adapters.checkpoint_files import CheckpointError, load_state_dict, weights_sha256


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_safetensors_and_torch_round_trip(tmp_path: Path) -> None:
    state = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.zeros(3)}
    save_file(state, tmp_path / "m.safetensors")
    torch.save(state, tmp_path / "m.pt")
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "wrapped.ckpt")
    for name in ("m.safetensors", "m.pt", "wrapped.ckpt"):
        loaded = load_state_dict(tmp_path / name)
        assert set(loaded) == {"w", "b"} and torch.equal(loaded["w"], state["w"])


def test_pickled_code_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    torch.save({"w": torch.zeros(1), "payload": _Exploit(marker)}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match="refused to load"):
        load_state_dict(tmp_path / "evil.pth")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("x.pt", b"garbage", "refused to load"),
        ("x.onnx", b"", "unknown weights format"),
        ("y.safetensors", b"nope", "not a valid safetensors"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(CheckpointError, match=words):
        load_state_dict(tmp_path / name)
    with pytest.raises(CheckpointError, match="not found"):
        load_state_dict(tmp_path / "missing.pt")


def test_weights_hash_tracks_content(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.bin").write_bytes(b"1")
    first = weights_sha256(tmp_path / "d")
    (tmp_path / "d" / "a.bin").write_bytes(b"2")
    assert weights_sha256(tmp_path / "d") != first


def test_folder_is_not_a_weights_file(tmp_path: Path) -> None:
    from idg_adapters.checkpoint_files import weights_path_problem

    folder = tmp_path / "m.safetensors"
    folder.mkdir()
    with pytest.raises(CheckpointError, match="is a folder; a weights file is expected"):
        load_state_dict(folder)
    assert weights_path_problem(folder, "x.weights") == (
        f"weights path {folder} (--opt x.weights) is a folder; a weights file is expected "
        "(.safetensors, .pt, .pth, .bin, .ckpt)"
    )
    assert "not found" in weights_path_problem(tmp_path / "none.pt", "x.weights")
    (tmp_path / "w.pt").write_bytes(b"")
    assert weights_path_problem(tmp_path / "w.pt", "x.weights") is None


def test_state_dict_that_does_not_fit_is_summarised(tmp_path: Path) -> None:
    from idg_adapters.checkpoint_files import load_matching_state_dict

    model = torch.nn.Linear(3, 2)
    state = {"weight": torch.zeros(5, 3), **{f"other.{i}": torch.zeros(1) for i in range(40)}}
    with pytest.raises(CheckpointError) as info:
        load_matching_state_dict(model, state, tmp_path / "w.safetensors", "a Linear(3, 2)")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'w.safetensors'}: does not fit a Linear(3, 2): missing 1 (e.g. bias)")
    assert "unexpected 40 (e.g. other.0, other.1, other.2, other.3, other.4)" in message
    assert "wrong shape 1 (e.g. weight (5, 3) vs (2, 3))" in message
    load_matching_state_dict(model, {"weight": torch.ones(2, 3), "bias": torch.ones(2)}, tmp_path, "it")
    assert torch.equal(model.bias, torch.ones(2))
