"""Soft rounding and its noisy variant (Agustsson & Theis, NeurIPS 2020).

"Universally Quantized Neural Compression", §4.1: a differentiable function that
interpolates between the identity (``alpha -> 0``) and rounding
(``alpha -> inf``)::

    s_alpha(x) = m + tanh(alpha * r) / (2 * tanh(alpha / 2)),   m = floor(x) + 1/2,  r = x - m

It maps every interval ``[k, k + 1]`` onto itself, is continuous at the integers'
midpoints, and has the closed-form inverse :func:`soft_round_inverse`. The noisy
variant ``s_alpha(s_alpha(x) + u)``, ``u ~ U(-1/2, 1/2)``, is the training
quantizer of Cool-chic and C3 (Kim et al., CVPR 2024), annealing ``alpha``
upwards during overfitting. :func:`kumaraswamy_noise` is the peaked noise that
Cool-chic and GIViC anneal towards uniform.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vid1d.quant.scalar import fp32

# Below this sharpness tanh(alpha r) / (2 tanh(alpha / 2)) equals r to float32
# precision, and the ratio of two tiny numbers is better replaced by its limit.
_ALPHA_IDENTITY = 1e-4


def _as_alpha(alpha: float | Tensor, like: Tensor) -> Tensor:
    return torch.as_tensor(alpha, dtype=torch.float32, device=like.device)


@fp32
def soft_round(x: Tensor, alpha: float | Tensor) -> Tensor:
    """Soft rounding ``s_alpha(x)``; identity as ``alpha -> 0``, ``round`` as ``alpha -> inf``."""
    a = _as_alpha(alpha, x).clamp_min(_ALPHA_IDENTITY)
    m = torch.floor(x) + 0.5
    r = x - m
    y = m + torch.tanh(a * r) / (2.0 * torch.tanh(a / 2.0))
    return torch.where(_as_alpha(alpha, x) <= _ALPHA_IDENTITY, x, y)


@fp32
def soft_round_inverse(y: Tensor, alpha: float | Tensor) -> Tensor:
    """Inverse of :func:`soft_round`: ``m + atanh(2 r tanh(alpha / 2)) / alpha``."""
    a = _as_alpha(alpha, y).clamp_min(_ALPHA_IDENTITY)
    m = torch.floor(y) + 0.5
    r = y - m
    # |2 r tanh(a/2)| < 1 mathematically; clamp keeps atanh finite where float32
    # rounds tanh(a/2) to 1 (large alpha) or r sits exactly on a boundary.
    t = (2.0 * r * torch.tanh(a / 2.0)).clamp(-1.0 + 1e-7, 1.0 - 1e-7)
    x = m + torch.atanh(t) / a
    return torch.where(_as_alpha(alpha, y) <= _ALPHA_IDENTITY, y, x)


@fp32
def noisy_soft_round(x: Tensor, alpha: float | Tensor, noise: Tensor | None = None) -> Tensor:
    """``s_alpha(s_alpha(x) + u)`` with ``u ~ U(-0.5, 0.5)`` (or the given ``noise``)."""
    if noise is None:
        noise = torch.empty_like(x).uniform_(-0.5, 0.5)
    return soft_round(soft_round(x, alpha) + noise, alpha)


def kumaraswamy_noise(
    shape: tuple[int, ...] | torch.Size,
    a: float,
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Kumaraswamy(a, b) noise shifted to [-0.5, 0.5], with its mode at 0.

    Inverse-CDF sampling ``(1 - (1 - u)^(1/b))^(1/a) - 1/2``. ``b`` is chosen so
    the mode ``((a - 1) / (a b - 1))^(1/a)`` is 1/2, i.e. ``b = (2^a (a - 1) + 1) / a``;
    ``a = 1`` gives ``b = 1``, the uniform distribution, and larger ``a`` peaks
    the noise around 0 (Cool-chic anneals ``a`` from about 2 down to 1).
    """
    if a < 1.0:
        raise ValueError(f"kumaraswamy_noise needs a >= 1 (mode inside the interval), got {a}")
    b = (2.0**a * (a - 1.0) + 1.0) / a
    u = torch.rand(shape, device=device, generator=generator, dtype=torch.float32)
    return (1.0 - (1.0 - u).pow(1.0 / b)).pow(1.0 / a) - 0.5
