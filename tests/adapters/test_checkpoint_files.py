"""Weights load from safetensors or weights-only torch files; pickled code is refused, not run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from adapters.checkpoint_files import CheckpointError, load_state_dict, weights_sha256


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
