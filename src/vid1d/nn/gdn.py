"""Generalized divisive normalization (Ballé, Laparra & Simoncelli 2016).

``y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²)`` (inverse: multiply). β and γ are kept
non-negative by a squared reparameterisation with a small pedestal, as in
CompressAI's ``GDN``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_PEDESTAL = 2.0**-18


class GDN(nn.Module):
    def __init__(self, channels: int, inverse: bool = False, beta_min: float = 1e-6,
                 gamma_init: float = 0.1):
        super().__init__()
        self.inverse = inverse
        self.beta_bound = (beta_min + _PEDESTAL) ** 0.5
        self.beta = nn.Parameter(torch.sqrt(torch.ones(channels) + _PEDESTAL))
        self.gamma = nn.Parameter(torch.sqrt(gamma_init * torch.eye(channels) + _PEDESTAL))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta = self.beta.clamp_min(self.beta_bound) ** 2 - _PEDESTAL  # (C,)
        gamma = self.gamma.clamp_min(_PEDESTAL**0.5) ** 2 - _PEDESTAL  # (C, C)
        norm = F.conv2d(x * x, gamma[:, :, None, None], beta)  # (B, C, H, W)
        norm = torch.sqrt(norm)
        return x * norm if self.inverse else x / norm
