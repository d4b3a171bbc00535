"""Finite Scalar Quantization (Mentzer, Minnen, Agustsson & Tschannen, "Finite Scalar
Quantization: VQ-VAE Made Simple", ICLR 2024, arXiv:2309.15505).

Each of the ``d = len(levels)`` channels is bounded to ``L_i`` values and rounded
with a straight-through gradient; the implicit codebook is their product grid
(``codebook_size = ∏ L_i``), so there is no codebook to learn, no commitment loss
and no collapse::

    z (..., d) --bound (tanh to ±L/2)--> --round (STE)--> integers --÷ (L // 2)--> codes in [−1, 1]

Bounding (§3 and the paper's reference code): ``f(z) = tanh(z + s) · h − o`` with
``h = (L − 1)(1 + ε) / 2``. For odd ``L`` the offset ``o = 0`` and ``f`` rounds to
``{−(L−1)/2, …, (L−1)/2}``. For even ``L`` a symmetric range cannot hold ``L``
integers, so ``o = ½`` shifts it to ``{−L/2, …, L/2 − 1}``; ``s = atanh(o / h)``
keeps ``f(0) = 0`` (the paper's code writes ``tan``, nearly equal for small ``o/h``).

Indices are the mixed-radix number of the per-channel digits (channel 0 least
significant), so ``indices_to_codes(codes_to_indices(c)) == c`` exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vid1d.quant.scalar import round_ste

EPS = 1e-3  # keeps tanh·h strictly inside (−L/2, L/2): the outermost level stays reachable


class FSQ(nn.Module):
    """Quantize the last dimension ``(..., d)`` to the grid given by ``levels`` (``d`` entries)."""

    def __init__(self, levels: tuple[int, ...] | list[int]):
        super().__init__()
        levels = tuple(int(x) for x in levels)
        if not levels or any(x < 2 for x in levels):
            raise ValueError(f"FSQ levels must be integers >= 2, got {levels}")
        self.levels = levels
        lv = torch.tensor(levels, dtype=torch.long)
        basis = torch.cumprod(torch.tensor((1,) + levels[:-1], dtype=torch.long), dim=0)
        # derived from ``levels``: not saved with the weights
        self.register_buffer("_levels", lv, persistent=False)
        self.register_buffer("_basis", basis, persistent=False)
        self.register_buffer("_half_width", lv // 2, persistent=False)

    @property
    def dim(self) -> int:
        return len(self.levels)

    @property
    def codebook_size(self) -> int:
        size = 1
        for x in self.levels:
            size *= x
        return size

    def bound(self, z: Tensor) -> Tensor:
        """``(..., d)`` -> ``(..., d)`` in ``(−L/2, L/2)`` (even L: shifted by −½), f(0) = 0."""
        levels = self._levels.to(z.dtype)
        half_l = (levels - 1) * (1 + EPS) / 2
        offset = torch.where(self._levels % 2 == 0, 0.5, 0.0).to(z.dtype)
        shift = torch.atanh(offset / half_l)
        return torch.tanh(z + shift) * half_l - offset

    def forward(self, z: Tensor) -> Tensor:
        """``z (..., d)`` -> codes ``(..., d)`` on the grid ``k / (L // 2)``, straight-through."""
        if z.shape[-1] != self.dim:
            raise ValueError(f"FSQ expects {self.dim} channels last, got shape {tuple(z.shape)}")
        # fp32 under autocast: bf16 cannot hold the bounded values' rounding boundaries
        with torch.autocast(device_type=z.device.type, enabled=False):
            q = round_ste(self.bound(z.float()))  # (..., d) integers
            return q / self._half_width.float()

    def codes_to_indices(self, codes: Tensor) -> Tensor:
        """Codes ``(..., d)`` -> indices ``(...)`` in ``[0, codebook_size)`` (int64)."""
        if codes.shape[-1] != self.dim:
            raise ValueError(f"FSQ expects {self.dim} channels last, "
                             f"got shape {tuple(codes.shape)}")
        digits = torch.round(codes.float() * self._half_width + self._half_width).long()  # (..., d)
        return (digits * self._basis).sum(dim=-1)

    def indices_to_codes(self, indices: Tensor) -> Tensor:
        """Indices ``(...)`` -> codes ``(..., d)`` (float32)."""
        digits = (indices.long().unsqueeze(-1) // self._basis) % self._levels  # (..., d)
        return (digits - self._half_width).float() / self._half_width.float()

    def extra_repr(self) -> str:
        return f"levels={self.levels}, codebook_size={self.codebook_size}"


__all__ = ["FSQ"]
