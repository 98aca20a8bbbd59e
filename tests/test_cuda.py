"""The GPU path: AMP training steps of DiffTracker, checkpoints moved from GPU to CPU, CUDA peak
memory in a run's metrics, and `harness run --device cuda`. Marked `cuda` (`pytest -m cuda`, run by
`make gpu-check`); every test here is skipped on a machine without CUDA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from rich.console import Console

from difftracker.losses import GroundingTargets, grounding_loss
from difftracker.model import DiffTracker
from harness.cli import main
from harness.run.run_config import RunConfig
from harness.run.runner import run_evaluation
from harness.training.checkpoint import load_model_weights, save_model_checkpoint
from tests.difftracker.conftest import tiny_config, tiny_text_encoder  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason="needs a CUDA GPU (run `make gpu-check` on a GPU machine)"
    ),
]

QUERIES = ["the red square that was removed", "what appeared on the left", "the disc that changed colour"]


def _batch(device: str, pairs: int = 2, size: int = 64):
    generator = torch.Generator().manual_seed(0)
    a = torch.randint(0, 256, (pairs, 3, size, size), dtype=torch.uint8, generator=generator)
    b = a.clone()
    b[:, :, 10:30, 20:40] = 255 - b[:, :, 10:30, 20:40]
    boxes = torch.tensor([[0.47, 0.31, 0.31, 0.31], [0.2, 0.7, 0.2, 0.25]], device=device)
    targets = GroundingTargets([boxes] * len(QUERIES), [i % 2 for i in range(len(QUERIES))])
    return a.to(device), b.to(device), torch.tensor([0, 1, 1], device=device), targets


def _model(text_encoder: Path) -> tuple[DiffTracker, object]:
    torch.manual_seed(0)
    model = DiffTracker(tiny_config(text_encoder)).cuda().train()
    text = model.make_text_encoder().cuda()(QUERIES)
    return model, text


def _linear_output_dtypes(model: torch.nn.Module) -> set[torch.dtype]:
    """Records the output dtype of every nn.Linear call (what autocast actually ran them in)."""
    seen: set[torch.dtype] = set()
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.register_forward_hook(lambda _m, _i, out: seen.add(out.dtype))
    return seen


def _trainable_grads(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.grad for p in model.parameters() if p.requires_grad and p.grad is not None]


def test_bf16_autocast_forward_and_backward(tiny_text_encoder: Path) -> None:  # noqa: F811
    model, text = _model(tiny_text_encoder)
    dtypes = _linear_output_dtypes(model)
    a, b, pair_index, targets = _batch("cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        output = model(a, b, text, pair_index)
        loss, parts = grounding_loss(output, targets)
    assert torch.bfloat16 in dtypes  # the layers really ran in bf16
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    grads = _trainable_grads(model)
    assert grads and all(bool(torch.isfinite(g).all()) for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in model.parameters())


def test_fp16_autocast_with_grad_scaler_takes_optimizer_steps(tiny_text_encoder: Path) -> None:  # noqa: F811
    model, text = _model(tiny_text_encoder)
    dtypes = _linear_output_dtypes(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    scaler = torch.amp.GradScaler("cuda")
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    a, b, pair_index, targets = _batch("cuda")
    losses = []
    for _ in range(3):
        with torch.autocast("cuda", dtype=torch.float16):
            loss, _ = grounding_loss(model(a, b, text, pair_index), targets)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        scaler.step(optimizer)
        scaler.update()
        losses.append(float(loss.detach()))
    assert torch.float16 in dtypes
    assert all(torch.isfinite(torch.tensor(losses)))
    assert 0 < scaler.get_scale() < float("inf")
    changed = [n for n, p in model.named_parameters() if p.requires_grad and not torch.equal(p, before[n])]
    assert changed  # at least one step was not skipped for inf/nan gradients


def test_checkpoint_saved_on_gpu_loads_on_cpu(tiny_text_encoder: Path, tmp_path: Path) -> None:  # noqa: F811
    model, _ = _model(tiny_text_encoder)
    frozen = model.frozen_keys()
    with torch.no_grad():  # move the zero-initialised heads off zero so the round trip carries real values
        for name, p in model.named_parameters():
            if name not in frozen:
                p.add_(0.01 * torch.randn_like(p))
    model.eval()
    state = model.trained_state_dict()
    assert all(t.is_cuda for t in state.values())
    save_model_checkpoint(tmp_path / "ckpt", state, {"saved_on": "cuda"})
    loaded = load_model_weights(tmp_path / "ckpt")
    assert all(t.device.type == "cpu" for t in loaded.values())
    cpu_model = DiffTracker(tiny_config(tiny_text_encoder)).eval()
    cpu_model.load_trained_state_dict(loaded)
    for name, tensor in cpu_model.trained_state_dict().items():
        torch.testing.assert_close(tensor, state[name].cpu(), msg=name)
    # Full fp32 on the GPU (no TF32), and the dense per-token outputs: the top-k query selection
    # after them could swap two near-tied tokens on rounding alone.
    text = cpu_model.make_text_encoder()(QUERIES)
    a, b, pair_index, _ = _batch("cpu")
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.no_grad():
            on_cpu = cpu_model(a, b, text, pair_index)
            on_gpu = model(a.cuda(), b.cuda(), text.to("cuda"), pair_index.cuda())
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    for name in ("token_boxes", "token_difference_logits", "token_referring_logits"):
        torch.testing.assert_close(getattr(on_gpu, name).cpu(), getattr(on_cpu, name), rtol=1e-3, atol=1e-3, msg=name)


def test_runner_reports_cuda_peak_memory(tiny_dataset: Path, tmp_path: Path) -> None:
    config = RunConfig(
        models=["difftracker"],
        split="test",
        dataset=tiny_dataset,
        output_dir=tmp_path / "results",
        device="cuda",
        run_id="gpu",
    )
    result = run_evaluation(config, Console(quiet=True))
    metrics = json.loads((result.run_dir / "difftracker" / "metrics.json").read_text())
    assert isinstance(metrics["cuda_peak_mb"], float) and metrics["cuda_peak_mb"] > 0
    assert metrics["n"] == 6 and metrics["errors"] == 0


def test_harness_run_with_device_cuda(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    code = main(["run", "--models", "difftracker,pixel-diff", "--dataset", str(tiny_dataset), "--device", "cuda",
                 "--output-dir", str(out), "--run-id", "cli-gpu", "--loader-workers", "0"])  # fmt: skip
    assert code == 0
    run = json.loads((out / "cli-gpu" / "run.json").read_text())
    assert run["status"] == "complete" and run["config"]["device"] == "cuda"
    assert {name: entry["status"] for name, entry in run["models"].items()} == {
        "difftracker": "done",
        "pixel-diff": "done",
    }
    rows = [json.loads(line) for line in (out / "cli-gpu" / "difftracker" / "predictions.jsonl").open()]
    assert len(rows) == 6 and all(row["boxes"] and "error" not in row for row in rows)
