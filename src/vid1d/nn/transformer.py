"""Pre-norm transformer blocks, optionally modulated by a conditioning vector.

With ``cond_dim`` the block is an adaLN-Zero block (DiT, Peebles & Xie 2023):
the conditioning vector (a timestep, a rate-distortion λ, a class) produces
per-channel shift/scale/gate for both sub-layers; gates start at zero so a fresh
block is the identity.
"""

from __future__ import annotations

import torch
from torch import nn

from vid1d.nn.attention import Attention, KVCache


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, act_layer: type[nn.Module] = nn.GELU):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale[:, None]) + shift[:, None]


class TransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, *, cond_dim: int | None = None,
                 qk_norm: bool = False, norm_layer: type[nn.Module] = nn.LayerNorm):
        super().__init__()
        self.norm1 = norm_layer(dim, elementwise_affine=cond_dim is None)
        self.attn = Attention(dim, heads, qk_norm=qk_norm)
        self.norm2 = norm_layer(dim, elementwise_affine=cond_dim is None)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.ada = None
        if cond_dim is not None:
            self.ada = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 6 * dim))
            nn.init.zeros_(self.ada[-1].weight)
            nn.init.zeros_(self.ada[-1].bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None, **attn_kwargs) -> torch.Tensor:
        """x (B, N, D); cond (B, cond_dim) when the block is conditioned."""
        if self.ada is None:
            x = x + self.attn(self.norm1(x), **attn_kwargs)
            return x + self.mlp(self.norm2(x))
        sh1, sc1, g1, sh2, sc2, g2 = self.ada(cond).chunk(6, dim=-1)  # each (B, D)
        x = x + g1[:, None] * self.attn(modulate(self.norm1(x), sh1, sc1), **attn_kwargs)
        return x + g2[:, None] * self.mlp(modulate(self.norm2(x), sh2, sc2))


__all__ = ["Attention", "KVCache", "Mlp", "TransformerBlock", "modulate"]
