"""Checkpoints round-trip exactly through safetensors + JSON, optimizer state included."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from harness.training.checkpoint import (
    MODEL_FILE,
    PROVENANCE_FILE,
    load_model_weights,
    load_training_state,
    save_model_checkpoint,
    save_training_state,
)
from idg_adapters.cd_siamese_network import NetworkConfig, SiameseDiffNet


def _trained_a_little() -> tuple[SiameseDiffNet, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = SiameseDiffNet(NetworkConfig(channels=(4, 8)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(2):
        loss = model(torch.randn(1, 3, 16, 16), torch.randn(1, 3, 16, 16)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, optimizer


def test_model_and_provenance_round_trip_exactly(tmp_path: Path) -> None:
    model, _ = _trained_a_little()
    provenance = {"seed": 0, "val": {"iou": 0.5}, "dataset": {"fingerprint": "abc"}}
    save_model_checkpoint(tmp_path / "best", model.state_dict(), provenance)
    loaded = load_model_weights(tmp_path / "best")
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded[name], tensor), name
    assert json.loads((tmp_path / "best" / PROVENANCE_FILE).read_text()) == provenance
    assert (tmp_path / "best" / MODEL_FILE).read_bytes()[:8] != b"\x80\x02\x8a\n"  # not a pickle


def test_float16_export_loads_as_float32(tmp_path: Path) -> None:
    model, _ = _trained_a_little()
    save_model_checkpoint(tmp_path / "export", model.state_dict(), {}, dtype="float16")
    loaded = load_model_weights(tmp_path / "export")
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point():
            assert loaded[name].dtype == torch.float32
            assert torch.equal(loaded[name], tensor.half().float()), name
        else:
            assert torch.equal(loaded[name], tensor), name


def test_optimizer_state_round_trips(tmp_path: Path) -> None:
    model, optimizer = _trained_a_little()
    save_training_state(tmp_path, optimizer, {"epoch": 3, "rows": [{"epoch": 1}]})
    fresh = torch.optim.AdamW(model.parameters(), lr=0.5)
    state = load_training_state(tmp_path, fresh)
    assert state == {"epoch": 3, "rows": [{"epoch": 1}]}
    want, got = optimizer.state_dict(), fresh.state_dict()
    assert got["param_groups"][0]["lr"] == want["param_groups"][0]["lr"]
    for index, slots in want["state"].items():
        for name, value in slots.items():
            assert torch.equal(torch.as_tensor(got["state"][index][name]), torch.as_tensor(value)), (index, name)
