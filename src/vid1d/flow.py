"""Rectified flow (flow matching), stateless: One-DVA's decoder and the latent diffusion model.

One time convention, stated once: t = 0 is data, t = 1 is noise (papers/onedva.txt
eq. 1–3, Esser et al. 2024)::

    x_t = (1 − t)·x_0 + t·ε,   ε ~ N(0, I)
    v*  = dx_t/dt = ε − x_0                   (the velocity a model D(x_t, t, c) learns)
    x_0 = x_t − t·v                           (the clean estimate from any t)

Sampling integrates dx/dt = v from t = 1 down to t = 0 with Euler steps,
``x ← x + (t_next − t)·v`` (t_next < t), the update computed in fp32.

Timesteps for training come from a thick-tailed logit-normal (SD3's logit-normal
with a share of exact t = 1 samples, One-DVA §3.4 stage 2) or are fixed at 1
(stage 1: the decoder sees pure noise, so everything must come from the latents).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def _bcast(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B,) -> (B, 1, ..., 1) matching ``like``'s rank."""
    return t.reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def interpolate(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 − t)·x_0 + t·ε; t (B,) in [0, 1]."""
    tb = _bcast(t, x0)
    return (1 - tb) * x0 + tb * noise


def velocity_target(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """v* = ε − x_0 (constant along the straight path)."""
    return noise - x0


def predict_x0(x_t: torch.Tensor, v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x̂_0 = x_t − t·v (exact when v is the true velocity)."""
    return x_t - _bcast(t, x_t) * v


def sample_timesteps(batch: int, *, mode: str = "logit-normal", mean: float = 0.0,
                     std: float = 1.0, p_max: float = 0.1,
                     generator: torch.Generator | None = None,
                     device: str | torch.device = "cpu") -> torch.Tensor:
    """Training timesteps (B,).

    ``"logit-normal"``: t = sigmoid(n), n ~ N(mean, std²), except a share ``p_max``
    set to exactly 1 (the thick tail at full noise, One-DVA §3.4 stage 2).
    ``"one"``: t ≡ 1 (stage 1). ``"uniform"``: U(0, 1).
    """
    if mode == "one":
        return torch.ones(batch, device=device)
    if mode == "uniform":
        return torch.rand(batch, generator=generator, device=device)
    if mode != "logit-normal":
        raise ValueError(f"unknown timestep mode {mode!r} (logit-normal | one | uniform)")
    if not 0.0 <= p_max <= 1.0:
        raise ValueError(f"p_max must be in [0, 1], got {p_max}")
    n = torch.randn(batch, generator=generator, device=device) * std + mean
    t = torch.sigmoid(n)
    at_one = torch.rand(batch, generator=generator, device=device) < p_max
    return torch.where(at_one, torch.ones_like(t), t)


def flow_loss(model_v: torch.Tensor, x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Per-sample ‖D(x_t, t, c) − (ε − x_0)‖² averaged over all but the batch dim: (B,)."""
    err = (model_v.float() - velocity_target(x0, noise).float()).pow(2)
    return err.flatten(1).mean(dim=1)


def timestep_grid(steps: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """steps + 1 times from 1 down to 0, uniformly spaced."""
    if steps < 1:
        raise ValueError(f"need at least one sampling step, got {steps}")
    return torch.linspace(1.0, 0.0, steps + 1, device=device)


@torch.no_grad()
def euler_sample(velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 noise: torch.Tensor, steps: int,
                 on_step: Callable[[int, torch.Tensor], None] | None = None) -> torch.Tensor:
    """Integrate dx/dt = velocity(x, t) from t = 1 (x = noise) to t = 0.

    ``velocity(x (B, ...), t (B,))`` returns v in x's shape. Returns x at t = 0.
    """
    times = timestep_grid(steps, noise.device)
    x = noise.float()
    for i in range(steps):
        t, t_next = times[i], times[i + 1]
        v = velocity(x.to(noise.dtype), t.expand(x.shape[0])).float()
        x = x + (t_next - t) * v
        if on_step is not None:
            on_step(i, x)
    return x.to(noise.dtype)


__all__ = ["euler_sample", "flow_loss", "interpolate", "predict_x0", "sample_timesteps",
           "timestep_grid", "velocity_target"]
