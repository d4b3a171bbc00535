"""torchrun integration: process groups, DDP / FSDP2 wrapping, small collectives.

The same script runs alone or under ``torchrun --nproc_per_node N``: torchrun
sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT``, and
:func:`init_distributed` joins the group (NCCL on CUDA, gloo on CPU). Only rank 0
writes files and logs.

The model's training step is a method (``training_losses``), but DDP and FSDP
hook ``forward``: DDP arms its gradient all-reduce there and FSDP all-gathers the
root's parameters. :class:`LossModule` routes every call through ``forward`` so
both wrappers see it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from vid1d.utils.device import check_device


@dataclass(frozen=True)
class DistEnv:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    owns_group: bool  # this code created the process group and must destroy it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return dist.is_available() and dist.is_initialized()


def select_device(pref: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> ``cuda:<local_rank>`` when CUDA is available, else ``cpu``."""
    if pref == "auto":
        pref = "cuda" if torch.cuda.is_available() else "cpu"
    dev = check_device(pref)
    return torch.device("cuda", local_rank) if dev.type == "cuda" and dev.index is None else dev


def init_distributed(device_pref: str, *, need_group: bool = False) -> DistEnv:
    """Read torchrun's environment and join (or create) the process group.

    ``need_group`` creates a one-process group when not launched by torchrun
    (FSDP2 needs a device mesh even on one process).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = select_device(device_pref, local_rank)
    owns = False
    if (world > 1 or need_group) and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        if world == 1 and "MASTER_ADDR" not in os.environ:
            dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
        else:
            dist.init_process_group(backend, device_id=device if device.type == "cuda" else None)
        owns = True
    if dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    return DistEnv(rank, world, local_rank, device, owns)


def shutdown(env: DistEnv, *, wait: bool = True) -> None:
    """Destroy the group if :func:`init_distributed` created it; ``wait`` first
    synchronizes so no rank tears down gloo while a peer still talks to it."""
    if env.owns_group and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


class LossModule(nn.Module):
    """``forward(batch, step, mode)`` -> the model's training losses, val metrics or samples."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: dict, step: int = 0, mode: str = "train") -> Any:
        if mode == "train":
            return self.model.training_losses(batch, step)
        if mode == "val":
            return self.model.validation_metrics(batch)
        if mode == "samples":
            return self.model.sample_images(batch)
        raise ValueError(f"unknown mode {mode!r}")


def fsdp_units(model: nn.Module) -> list[nn.Module]:
    """Sub-modules sharded as separate FSDP units: ``model.fsdp_units()``, else the
    members of the outermost ``nn.ModuleList``s (the block stacks)."""
    if hasattr(model, "fsdp_units"):
        return list(model.fsdp_units())
    units: list[nn.Module] = []
    inside: set[int] = set()
    for m in model.modules():  # pre-order: a list's members come before their children
        if id(m) in inside:
            inside.update(id(c) for c in m.children())
            continue
        if isinstance(m, nn.ModuleList):
            units.extend(m)
            inside.update(id(c) for c in m.children())
    return units


def wrap(model: nn.Module, env: DistEnv, *, fsdp: bool, bf16: bool,
         find_unused: bool = False) -> nn.Module:
    """``LossModule(model)`` wrapped for data parallelism (DDP, FSDP2, or nothing)."""
    module = LossModule(model)
    if fsdp:
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        # bf16 compute and all-gathers, fp32 gradient reduction and master weights.
        mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) \
            if bf16 else MixedPrecisionPolicy()
        for unit in fsdp_units(model):
            fully_shard(unit, mp_policy=mp)
        fully_shard(module, mp_policy=mp)
        return module
    if env.world_size > 1:
        ids = [env.device.index] if env.device.type == "cuda" else None
        return DDP(module, device_ids=ids, find_unused_parameters=find_unused)
    return module


def reshard(module: nn.Module) -> None:
    """Put FSDP2 parameters back in their sharded form.

    After a forward outside of training (validation, samples) FSDP2 leaves the
    root's parameters unsharded; code that reads or writes the parameters as
    DTensors (EMA swap, state dicts) must reshard first. No-op without FSDP.
    """
    from torch.distributed.fsdp import FSDPModule

    for m in module.modules():
        if isinstance(m, FSDPModule):
            m.reshard()


def grad_sync(module: nn.Module, enabled: bool) -> contextlib.AbstractContextManager:
    """Skip the gradient all-reduce on accumulation micro-steps (all but the last)."""
    if isinstance(module, DDP) and not enabled:
        return module.no_sync()
    if hasattr(module, "set_requires_gradient_sync"):  # FSDP2 module
        module.set_requires_gradient_sync(enabled)
    return contextlib.nullcontext()


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def all_gather_objects(obj: Any) -> list[Any]:
    """``[obj of rank 0, obj of rank 1, ...]`` (just ``[obj]`` when not distributed)."""
    if not (dist.is_initialized() and dist.get_world_size() > 1):
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()
