"""Data-parallel training across processes started by ``torchrun``.

``torchrun --nproc-per-node P -m runners.cli train MODEL ...`` starts P
processes with ``RANK``/``WORLD_SIZE`` set. Each builds the same model and
draws the same batch sequence (same seed); each process takes every P-th
element of a batch, ``DistributedDataParallel`` around :class:`SVIObjective`
averages the gradients, so one step sees the whole batch. Each rank draws its
own Monte Carlo noise (torch seed + rank); a checkpoint keeps every rank's RNG
state (gathered to every rank, written by rank 0), so a resume continues each
rank's noise exactly. Only rank 0 writes the run directory. Gloo is used on CPU,
NCCL on CUDA.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from pyro_vaes.models.base import Batch


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in a data-parallel job (world size 1: a single process)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls) -> DistributedContext:
        """Read ``RANK`` and ``WORLD_SIZE`` as set by torchrun."""
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                   int(os.environ.get("LOCAL_RANK", 0)))

    def device(self, requested: torch.device) -> torch.device:
        """The device of this process: on CUDA, GPU number ``LOCAL_RANK``."""
        if self.enabled and requested.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return requested

    def setup(self, device: torch.device) -> None:
        """Join the process group (idempotent)."""
        if self.enabled and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def teardown(self) -> None:
        """Leave the process group (idempotent). Every rank calls this before it exits:
        a process that exits with gloo's threads still running can abort in the C++
        runtime ("terminate called without an active exception", SIGABRT)."""
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()

    def shard(self, batch: Batch) -> Batch | None:
        """This rank's share of a batch (every world_size-th data point), or None when the
        batch has fewer points than ranks (then every rank skips it)."""
        if not self.enabled:
            return batch
        if batch.size < self.world_size:
            return None

        def take(t: object) -> object:
            return t[self.rank::self.world_size] if torch.is_tensor(t) else t

        return Batch(take(batch.x), take(batch.y), take(batch.mask),
                     {k: take(v) for k, v in batch.extra.items()})

    def sum(self, *values: float) -> list[float]:
        """Sum numbers over ranks."""
        if not self.enabled:
            return list(values)
        device = "cpu"
        if dist.get_backend() == "nccl":  # NCCL reduces GPU tensors only
            device = torch.device("cuda", self.local_rank)
        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def all_gather_object(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order (``[value]`` in a single process)."""
        if not self.enabled:
            return [value]
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def min_int(self, value: torch.Tensor) -> int:
        """The smallest of every rank's integer scalar tensor (read on the host)."""
        if self.enabled:
            value = value.clone()
            dist.all_reduce(value, op=dist.ReduceOp.MIN)
        return int(value)

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.enabled:
            dist.barrier()
