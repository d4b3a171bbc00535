"""Multi-head self-attention on ``scaled_dot_product_attention``, with RoPE, masks
and a key/value cache for incremental (autoregressive) decoding."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from vid1d.nn.rope import apply_rope


class KVCache:
    """Keys/values of the positions seen so far, per attention layer."""

    def __init__(self) -> None:
        self.k: torch.Tensor | None = None  # (B, heads, N, head_dim)
        self.v: torch.Tensor | None = None

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.k is None:
            self.k, self.v = k, v
        else:
            self.k = torch.cat([self.k, k], dim=2)
            self.v = torch.cat([self.v, v], dim=2)
        return self.k, self.v

    def __len__(self) -> int:
        return 0 if self.k is None else self.k.shape[2]


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, qkv_bias: bool = True, qk_norm: bool = False):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.q_norm = nn.RMSNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm = nn.RMSNorm(self.head_dim) if qk_norm else nn.Identity()
        self.last_weights: torch.Tensor | None = None  # filled when return_weights=True

    def forward(self, x: torch.Tensor, *, rope: tuple[torch.Tensor, torch.Tensor] | None = None,
                mask: torch.Tensor | None = None, is_causal: bool = False,
                cache: KVCache | None = None, return_weights: bool = False) -> torch.Tensor:
        """x (B, N, D). ``rope``: cos/sin (N, head_dim/2) for the N positions of x.

        ``mask``: bool (N, N_keys) or broadcastable, True = may attend. With
        ``cache``, x holds only the new positions; keys/values are appended.
        """
        q, k, v = rearrange(self.qkv(x), "b n (three h d) -> three b h n d", three=3, h=self.heads)
        q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        if cache is not None:
            k, v = cache.append(k, v)  # (B, h, N_keys, d)
        if return_weights:
            # Explicit softmax so the weights can be inspected (analysis only).
            logits = (q @ k.transpose(-1, -2)) * self.head_dim**-0.5  # (B, h, N, N_keys)
            if mask is not None:
                logits = logits.masked_fill(~mask, float("-inf"))
            elif is_causal:
                n, nk = logits.shape[-2:]
                causal = torch.ones(n, nk, dtype=torch.bool, device=x.device).tril(nk - n)
                logits = logits.masked_fill(~causal, float("-inf"))
            weights = logits.softmax(dim=-1)
            self.last_weights = weights.detach()
            out = weights @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                 is_causal=is_causal and mask is None)
        return self.proj(rearrange(out, "b h n d -> b n (h d)"))  # (B, N, D)
