"""Process-group context for sharded runs under `torchrun` (gloo on CPU, nccl on GPU).

Outside torchrun (no WORLD_SIZE in the environment, or 1) everything here is a no-op, so a
single-process run never imports torch.distributed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

T = TypeVar("T")

# Rank 0 merges and scores after the others finish; slow adapters on big shards need headroom.
COLLECTIVE_TIMEOUT = timedelta(hours=6)


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job: rank, world size and local rank (GPU index)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    grouped: bool = False
    """In a process group although alone in it (`init_from_env(..., force_group=True)`)."""

    @property
    def active(self) -> bool:
        return self.world_size > 1 or self.grouped

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, items: list[T], key: Callable[[T], Hashable] | None = None) -> list[T]:
        """This rank's share: every world_size-th item, so each rank sees every stratum. With `key`,
        items of equal key stay together and whole groups are dealt in turn (in order of first
        appearance), so a model that encodes an image pair once for all its queries encodes each pair
        on one rank only. Alone, a rank keeps the items' order."""
        if key is None or self.world_size == 1:
            return items[self.rank :: self.world_size]
        groups: dict[Hashable, list[T]] = {}
        for item in items:
            groups.setdefault(key(item), []).append(item)
        return [item for i, group in enumerate(groups.values()) if i % self.world_size == self.rank for item in group]

    def broadcast(self, value: Any) -> Any:
        """Rank 0's value on every rank."""
        if not self.active:
            return value
        import torch.distributed as dist

        holder = [value]
        dist.broadcast_object_list(holder, src=0)
        return holder[0]

    def gather(self, value: Any) -> list[Any]:
        """Every rank's value, in rank order, on every rank."""
        if not self.active:
            return [value]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, value)
        return out

    def barrier(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    def close(self) -> None:
        if self.active:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def init_from_env(device: str, force_group: bool = False) -> DistContext:
    """Join torchrun's process group if this process was started by torchrun with >1 ranks, or with
    `force_group` under torchrun with one rank too (checks the collective backend on one device)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    alone_in_group = force_group and world_size == 1 and "RANK" in os.environ and "MASTER_ADDR" in os.environ
    if world_size <= 1 and not alone_in_group:
        return DistContext()
    import torch
    import torch.distributed as dist

    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    uses_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if uses_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        # Object collectives on nccl need the current device set (above); gloo serves the CPU.
        dist.init_process_group(backend="nccl" if uses_cuda else "gloo", timeout=COLLECTIVE_TIMEOUT)
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank, grouped=alone_in_group)
