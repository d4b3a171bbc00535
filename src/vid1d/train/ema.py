"""Exponential moving average of the weights, kept in fp32.

    θ̄_t = d_t·θ̄_{t-1} + (1 − d_t)·θ_t,    d_t = min(decay, (1 + t) / (10 + t))

The warm-up of ``d_t`` (TensorFlow's ``ExponentialMovingAverage(num_updates=)``)
keeps the average from being dominated by the random initialization in short
runs: a tiny preset trained 200 steps at ``decay=0.999`` would otherwise still
carry ~80% of its init. Buffers (e.g. BatchNorm statistics) are not averaged;
:meth:`EMA.state_dict` takes them from the live model.

Works on plain, DDP and FSDP2 models: under FSDP each rank averages its own
shard (the shadows are DTensors like the parameters).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn
from torch.distributed.tensor import DTensor, distribute_tensor


def full(t: torch.Tensor) -> torch.Tensor:
    """The whole tensor on every rank (a collective for DTensors), on the CPU."""
    return (t.full_tensor() if isinstance(t, DTensor) else t).detach().cpu()


class EMA:
    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.shadow = {n: p.detach().float().clone() for n, p in model.named_parameters()}

    def decay_at(self, step: int) -> float:
        """``d_t`` for the update after optimizer step ``step`` (0-based)."""
        return min(self.decay, (1 + step) / (10 + step))

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        w = 1.0 - self.decay_at(step)
        for n, p in model.named_parameters():
            self.shadow[n].lerp_(p.detach().float(), w)

    def state_dict(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """Full CPU tensors keyed like ``model.state_dict()`` (EMA params + live buffers)."""
        out = {}
        for k, v in model.state_dict().items():
            out[k] = full(self.shadow[k]).to(v.dtype) if k in self.shadow else full(v)
        return out

    def shadow_state(self) -> dict[str, torch.Tensor]:
        """The fp32 shadows as full CPU tensors (for exact resume)."""
        return {n: full(s) for n, s in self.shadow.items()}

    @torch.no_grad()
    def load_shadow_state(self, state: dict[str, torch.Tensor]) -> None:
        missing = sorted(set(self.shadow) - set(state))
        if missing:
            raise KeyError(f"EMA state lacks {missing[:3]}")
        for n, s in self.shadow.items():
            if isinstance(s, DTensor):  # FSDP: keep this rank's shard of the full tensor
                t = state[n].to(s.device_mesh.device_type, torch.float32)
                s.copy_(distribute_tensor(t, s.device_mesh, s.placements))
            else:
                s.copy_(state[n].to(s.device, torch.float32))

    @contextlib.contextmanager
    def swapped_in(self, model: nn.Module) -> Iterator[None]:
        """Temporarily run ``model`` with the EMA weights (exact restore afterwards)."""
        params = dict(model.named_parameters())
        backup = {n: p.detach().clone() for n, p in params.items()}
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(self.shadow[n])
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in params.items():
                    p.copy_(backup[n])
