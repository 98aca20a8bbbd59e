"""Which torch device a run or a training uses: `auto`, `cpu`, `cuda`, `cuda:N` or `mps`, checked
against this machine before anything loads; each rank of a sharded job gets its own GPU."""

from __future__ import annotations

from harness.errors import HarnessError
from harness.run.distributed import DistContext


def resolve_device(device: str, dist: DistContext | None = None) -> str:
    """`auto` -> cuda when available, else cpu; each rank of a sharded job gets its own GPU.

    A device this machine does not have is refused here, before any model loads.
    """
    import torch  # adapters that need torch pay for it anyway

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise HarnessError(f"--device {device!r}: not a device name (use auto, cpu, cuda, cuda:N or mps)") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise HarnessError(
                f"--device {device}: CUDA is not available here (torch {torch.__version__}, "
                f"built with CUDA {torch.version.cuda or 'none'}); use --device cpu or --device auto"
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise HarnessError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif parsed.type == "mps":
        if not torch.backends.mps.is_available():
            raise HarnessError(f"--device {device}: MPS is not available here; use --device cpu or --device auto")
    elif parsed.type != "cpu":
        raise HarnessError(f"--device {device}: the harness runs on cpu, cuda or mps")
    if dist is not None and dist.active and device == "cuda":
        device = f"cuda:{dist.local_rank}"
    return device
