"""`max_steps` (a smoke run stops after N steps) and `force_ddp` (DDP in a one-process group)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import torch

from harness.run.distributed import init_from_env
from harness.training.config import TrainConfig, TrainConfigError
from harness.training.trainer import train
from tests.training.conftest import tiny_config


def test_max_steps_stops_mid_epoch_and_records_each_step(tiny_synth: Path, tmp_path: Path) -> None:
    full = train(TrainConfig(**tiny_config(epochs=2, batch_size=1)), tiny_synth, tmp_path / "full", device="cpu")
    per_epoch = full.steps // 2
    assert per_epoch >= 2, "the tiny dataset must give an epoch of several steps"
    assert len(full.step_losses) == full.steps and full.exported is not None

    limit = per_epoch + 1  # all of epoch 1 and the first step of epoch 2
    config = TrainConfig(**tiny_config(epochs=2, batch_size=1, max_steps=limit))
    result = train(config, tiny_synth, tmp_path / "cut", device="cpu")
    assert result.steps == limit and result.epochs_run == 2
    assert result.exported is None  # the last epoch was not completed
    assert len(result.step_losses) == limit and all(torch.isfinite(torch.tensor(result.step_losses)))
    assert result.step_seconds == sorted(result.step_seconds) and result.step_seconds[0] > 0
    assert result.step_losses == full.step_losses[:limit]  # same data order, same steps
    rows = json.loads((tmp_path / "cut" / "log.json").read_text())
    assert [(row["epoch"], row["step"]) for row in rows] == [(1, per_epoch), (2, limit)]


def test_max_steps_at_an_epoch_end_runs_no_further_epoch(tiny_synth: Path, tmp_path: Path) -> None:
    probe = train(TrainConfig(**tiny_config(epochs=1, batch_size=1)), tiny_synth, tmp_path / "probe", device="cpu")
    config = TrainConfig(**tiny_config(epochs=3, batch_size=1, max_steps=probe.steps))
    result = train(config, tiny_synth, tmp_path / "run", device="cpu")
    assert result.steps == probe.steps and result.epochs_run == 1 and result.exported is None


def test_max_steps_must_not_be_negative() -> None:
    with pytest.raises(TrainConfigError, match="max_steps"):
        TrainConfig(**tiny_config(max_steps=-1))


def _torchrun_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables torchrun sets for a one-process job."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for key, value in {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "LOCAL_WORLD_SIZE": "1",
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}.items():  # fmt: skip
        monkeypatch.setenv(key, value)


def test_force_group_joins_a_one_process_group_only_under_torchrun(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch.distributed as dist

    for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR"):
        monkeypatch.delenv(key, raising=False)
    assert not init_from_env("cpu", force_group=True).active  # not started by torchrun: nothing to join
    _torchrun_env(monkeypatch)
    assert not init_from_env("cpu").active  # one process without force_group: no group, as before
    ctx = init_from_env("cpu", force_group=True)
    try:
        assert ctx.active and ctx.world_size == 1 and dist.is_initialized() and dist.get_backend() == "gloo"
        assert ctx.gather({"x": 1}) == [{"x": 1}] and ctx.shard([1, 2, 3]) == [1, 2, 3]
    finally:
        ctx.close()
    assert not dist.is_initialized()


def test_force_ddp_trains_through_distributed_data_parallel(
    tiny_synth: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch.nn.parallel as parallel

    wrapped = []

    class RecordingDDP(parallel.DistributedDataParallel):
        def __init__(self, module, *args, **kwargs):
            wrapped.append(type(module).__name__)
            super().__init__(module, *args, **kwargs)

    monkeypatch.setattr(parallel, "DistributedDataParallel", RecordingDDP)
    _torchrun_env(monkeypatch)
    config = TrainConfig(**tiny_config(epochs=1, max_steps=1))
    result = train(config, tiny_synth, tmp_path / "ddp", device="cpu", force_ddp=True)
    assert wrapped and result.steps == 1
    plain = train(config, tiny_synth, tmp_path / "plain", device="cpu")
    assert len(wrapped) == 1  # without force_ddp one process trains the bare model
    assert result.step_losses == pytest.approx(plain.step_losses, rel=1e-5)
