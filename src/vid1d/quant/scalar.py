"""Scalar quantizers for learned compression: rounding and its training proxies.

Training a codec needs a differentiable stand-in for ``round``; coding needs the
real thing. The choices here are the standard ones:

- ``"round"``: hard rounding, optionally around ``means`` (``round(x - m) + m``);
  what the coder sees. Ballé et al., "Variational image compression with a scale
  hyperprior" (ICLR 2018); Minnen et al. (NeurIPS 2018) for the mean shift.
- ``"noise"``: additive uniform noise U(-0.5, 0.5), the density-matching proxy of
  Ballé et al., "End-to-end optimized image compression" (ICLR 2017). Noise is
  shift invariant, so ``means`` does not change it.
- ``"ste"``: straight-through rounding (forward ``round``, identity gradient),
  Theis et al., "Lossy image compression with compressive autoencoders" (2017).
- ``"soft"``: the soft rounding of Agustsson & Theis (NeurIPS 2020), see
  :mod:`vid1d.quant.soft_round`.

Every function computes in float32 with autocast disabled and returns float32:
rounding a bf16 tensor is wrong above 256 (bf16 has 8 mantissa bits), and a
quantizer must be the same function under mixed precision as without it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Literal

import torch
from torch import Tensor

from vid1d.errors import InputError

QuantMode = Literal["noise", "ste", "round", "soft"]
QUANT_MODES: tuple[str, ...] = ("noise", "ste", "round", "soft")


def fp32(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """Run ``fn`` with autocast off and every tensor argument cast to float32."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        device = next(
            (a.device.type for a in (*args, *kwargs.values()) if isinstance(a, Tensor)), "cpu"
        )
        args = tuple(a.float() if isinstance(a, Tensor) else a for a in args)
        kwargs = {k: v.float() if isinstance(v, Tensor) else v for k, v in kwargs.items()}
        with torch.autocast(device_type=device, enabled=False):
            return fn(*args, **kwargs)

    return wrapper


@fp32
def round_with_means(x: Tensor, means: Tensor | None = None) -> Tensor:
    """Hard rounding ``round(x - means) + means`` (round half to even, as ``torch.round``)."""
    if means is None:
        return torch.round(x)
    return torch.round(x - means) + means


@fp32
def add_uniform_noise(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """``x + u`` with ``u ~ U(-0.5, 0.5)`` i.i.d.: the training proxy of rounding."""
    noise = torch.empty_like(x).uniform_(-0.5, 0.5, generator=generator)
    return x + noise


@fp32
def round_ste(x: Tensor, means: Tensor | None = None) -> Tensor:
    """Straight-through rounding: forward ``round(x - means) + means``, gradient identity."""
    shifted = x if means is None else x - means
    rounded = shifted + (torch.round(shifted) - shifted).detach()
    return rounded if means is None else rounded + means


def quantize(
    x: Tensor,
    mode: QuantMode | str,
    means: Tensor | None = None,
    *,
    alpha: float | Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Quantize ``x`` with one of :data:`QUANT_MODES`; returns float32.

    ``means`` (broadcastable to ``x``) centres the rounding grid for ``"round"``,
    ``"ste"`` and ``"soft"``; ``"noise"`` ignores it (uniform noise is shift
    invariant). ``alpha`` is the soft-rounding sharpness, required for ``"soft"``.
    """
    if mode == "noise":
        return add_uniform_noise(x, generator=generator)
    if mode == "ste":
        return round_ste(x, means)
    if mode == "round":
        return round_with_means(x, means)
    if mode == "soft":
        from vid1d.quant.soft_round import soft_round

        if alpha is None:
            raise InputError('quantize(mode="soft") needs alpha (soft-rounding sharpness)')
        if means is None:
            return soft_round(x, alpha)
        return soft_round(x.float() - means.float(), alpha) + means.float()
    raise InputError(
        f"unknown quantization mode {mode!r}; expected one of {', '.join(QUANT_MODES)}"
    )
