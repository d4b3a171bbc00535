"""Rotary positional embeddings (RoPE) in 1D, 2D and 3D.

RoPE (Su et al. 2021) rotates pairs of query/key channels by an angle
proportional to the position, so that ``<R(p) q, R(p') k>`` depends only on
``p - p'``: attention sees relative positions. For 2D (Heo et al. 2024, "RoPE
for ViT", axial variant) and 3D the channels are split between the axes and each
part is rotated by its own coordinate.

Tables are computed in float32 from integer (or fractional) coordinates, so the
same positions give the same rotation on every machine.
"""

from __future__ import annotations

import torch


def rope_angles(pos: torch.Tensor, dim: int, base: float = 10000.0) -> torch.Tensor:
    """Angles (..., dim/2) for positions ``pos`` (...,) over ``dim`` channels (dim even)."""
    if dim % 2:
        raise ValueError(f"RoPE needs an even channel count, got {dim}")
    inv_freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float32, device=pos.device) / dim)
    return pos.to(torch.float32)[..., None] * inv_freq  # (..., dim/2)


def rope_nd(coords: torch.Tensor, dim: int, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables (N, dim/2) for N positions with ``A`` axes: coords (N, A).

    The ``dim`` channels are split evenly over the axes (each part even); the
    first axis takes any remainder pair.
    """
    n_axes = coords.shape[-1]
    pairs = dim // 2
    per_axis = [pairs // n_axes] * n_axes
    per_axis[0] += pairs - sum(per_axis)
    angles = [rope_angles(coords[..., a], 2 * p, base) for a, p in enumerate(per_axis) if p]
    theta = torch.cat(angles, dim=-1)  # (N, dim/2)
    return theta.cos(), theta.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate channel pairs (2i, 2i+1) of x (..., N, dim) by the tables (N, dim/2)."""
    x1, x2 = x.float()[..., 0::2], x.float()[..., 1::2]  # (..., N, dim/2)
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)  # (..., N, dim/2, 2)
    return out.flatten(-2).to(x.dtype)
