"""Variable-length 1D latents (papers/onedva.txt §3.2, Appendix A).

Motion score of a clip (B, 3, T, H, W) in [0, 1]::

    s = mean |gray_{k+1} − gray_k|                      (raw, ≥ 0; 0 for one frame)
    ŝ = clip(s / (μ + 3σ), 0, 1)                        (μ, σ: EMAs of s over training)

Training length (stage 2): with probability p_full the whole N, with p_struct_only
zero (structural latent only), otherwise ``round(ŝ·N·η)``, η = 2·sigmoid(z),
z ~ N(0, 1) (a multiplicative factor centred at 1). Positions ≥ length are
replaced by learned padding tokens in the decoder ("tail dropout": the head of
the sequence carries the most information, as in matryoshka training).

Inference length: ``adaptive`` (ŝ·N with the stored statistics, η = 1), a fixed
fraction of N, or a token budget.
"""

from __future__ import annotations

import torch
from torch import nn

GRAY = (0.299, 0.587, 0.114)  # BT.601 luma weights


def raw_motion_score(video: torch.Tensor) -> torch.Tensor:
    """(B, 3, T, H, W) in [0, 1] -> (B,) mean absolute grayscale frame difference."""
    w = torch.tensor(GRAY, device=video.device, dtype=video.dtype).view(1, 3, 1, 1, 1)
    gray = (video * w).sum(dim=1)  # (B, T, H, W)
    if gray.shape[1] < 2:
        return gray.new_zeros(gray.shape[0])
    return (gray[:, 1:] - gray[:, :-1]).abs().mean(dim=(1, 2, 3))


class MotionScore(nn.Module):
    """Online-normalized motion score; the EMA statistics are buffers (saved with the model)."""

    def __init__(self, decay: float = 0.99):
        super().__init__()
        self.decay = decay
        self.register_buffer("mean", torch.tensor(0.0))
        self.register_buffer("var", torch.tensor(0.0))
        self.register_buffer("count", torch.tensor(0, dtype=torch.long))

    @torch.no_grad()
    def update(self, raw: torch.Tensor) -> None:
        m, v = raw.float().mean(), raw.float().var(unbiased=False)
        if self.count == 0:
            self.mean.copy_(m)
            self.var.copy_(v)
        else:
            self.mean.mul_(self.decay).add_((1 - self.decay) * m)
            self.var.mul_(self.decay).add_((1 - self.decay) * v)
        self.count += 1

    def normalized(self, raw: torch.Tensor) -> torch.Tensor:
        """ŝ = clip(s / (μ + 3σ), 0, 1); 1 (full length) before any statistics exist."""
        if self.count == 0:
            return torch.ones_like(raw)
        denom = (self.mean + 3 * self.var.sqrt()).clamp_min(1e-8)
        return (raw / denom).clamp(0, 1)


def training_lengths(score: torch.Tensor, n_max: int, *, p_full: float, p_struct_only: float,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """(B,) normalized scores -> (B,) kept 1D-latent lengths in [0, n_max] (Appendix A)."""
    B = score.shape[0]
    eta = 2 * torch.sigmoid(torch.randn(B, generator=generator))  # centred at 1
    length = torch.round(score.cpu() * n_max * eta).clamp(0, n_max).long()
    u = torch.rand(B, generator=generator)
    length = torch.where(u < p_full, torch.full_like(length, n_max), length)
    length = torch.where((u >= p_full) & (u < p_full + p_struct_only), torch.zeros_like(length), length)
    return length.to(score.device)


def inference_length(mode: str | float | int, n_max: int, score: float | None = None) -> int:
    """``"adaptive"`` (needs ``score`` = ŝ), a fraction in [0, 1] (float), or a budget (int)."""
    if mode == "adaptive":
        if score is None:
            raise ValueError("adaptive length needs the clip's motion score")
        return int(round(min(max(score, 0.0), 1.0) * n_max))
    if isinstance(mode, bool):
        raise ValueError(f"bad length {mode!r}")
    if isinstance(mode, float):
        if not 0.0 <= mode <= 1.0:
            raise ValueError(f"length fraction must be in [0, 1], got {mode}")
        return int(round(mode * n_max))
    if isinstance(mode, int):
        if mode < 0:
            raise ValueError(f"token budget must be >= 0, got {mode}")
        return min(mode, n_max)
    raise ValueError(f"length must be 'adaptive', a fraction or a token count, got {mode!r}")


def keep_mask(lengths: torch.Tensor, n: int) -> torch.Tensor:
    """(B,) lengths -> (B, n) bool, True for kept (head) positions."""
    return torch.arange(n, device=lengths.device)[None] < lengths[:, None]
