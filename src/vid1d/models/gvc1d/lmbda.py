"""One model for the whole rate range: λ-conditioning (papers/gvc1d.txt §4.1).

Training samples λ from ``num_lmbdas`` log-spaced points of [0.07, 1.5] and the
loss is ``R + λ·D``. The paper does not state its distortion scale; ours is
``D = distortion_scale · MSE`` with pixels in [0, 1] and R in bits per pixel,
``distortion_scale = 1000``, so the effective MSE weight spans ≈ 70…1500 (the
range in which CompressAI's MSE models live, scaled to our low-rate regime).

A continuous ``quality`` q ∈ [0, num_lmbdas − 1] interpolates between the
levels: log λ linearly, and the learned conditioning vector and quantization
step linearly between the two nearest levels. Integer q reproduces a trained level.

The learned quantization steps start on a ladder, ``qstep_i = qstep_init ·
(λ_i / λ_min)^(−qstep_slope)``: for a uniform quantizer at high rate
D ∝ Δ² and R ≈ −log Δ, so the R + λD optimum has Δ ∝ λ^(−½). Starting all levels
at Δ = 1 (the first bundled model) made the levels differ only in the loss
weight; the decoder learned from the same coarse tokens at every λ, rate did not
move with λ, and finer steps at test time bought no PSNR. The ladder makes each
level a different operating point from step 0, and training then adjusts it.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def lmbda_levels(lmbda_min: float, lmbda_max: float, n: int) -> torch.Tensor:
    if n == 1:
        return torch.tensor([lmbda_min])
    return torch.exp(torch.linspace(math.log(lmbda_min), math.log(lmbda_max), n))


class LambdaConditioning(nn.Module):
    """quality (B,) in [0, n-1] -> (λ (B,), conditioning vector (B, cond_dim), log q-step (B,))."""

    def __init__(self, lmbda_min: float, lmbda_max: float, n: int, cond_dim: int,
                 qstep_init: float, qstep_slope: float):
        super().__init__()
        self.n = n
        lmbdas = lmbda_levels(lmbda_min, lmbda_max, n)
        self.register_buffer("lmbdas", lmbdas, persistent=False)
        self.embed = nn.Parameter(torch.randn(n, cond_dim) * 0.02)
        # Learned quantization step per level: coarser steps at low λ save rate
        # without asking the encoder to shrink its output (DCVC-FM style q-scale).
        ladder = math.log(qstep_init) - qstep_slope * torch.log(lmbdas / lmbdas[0])
        self.log_qstep = nn.Parameter(ladder)

    def forward(self, quality: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q = quality.to(torch.float32).clamp(0, self.n - 1)  # (B,)
        lo = q.floor().long().clamp(max=self.n - 1)
        hi = (lo + 1).clamp(max=self.n - 1)
        w = (q - lo.float())[:, None]  # (B, 1)
        log_l = torch.log(self.lmbdas)
        lmbda = torch.exp(log_l[lo] * (1 - w[:, 0]) + log_l[hi] * w[:, 0])
        cond = self.embed[lo] * (1 - w) + self.embed[hi] * w
        log_qstep = self.log_qstep[lo] * (1 - w[:, 0]) + self.log_qstep[hi] * w[:, 0]
        return lmbda, cond, log_qstep

    def quality_for_lmbda(self, lmbda: float) -> float:
        """Inverse map (log-linear), for ``--lambda``; clamped to the trained range."""
        log_l = torch.log(self.lmbdas)
        if self.n == 1:
            return 0.0
        x = (math.log(lmbda) - log_l[0].item()) / (log_l[-1].item() - log_l[0].item())
        return float(min(max(x, 0.0), 1.0) * (self.n - 1))
