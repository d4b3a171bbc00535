"""The local/global transformer shared by GVC1D's encoder and decoder (§3.1, eq. 3).

``blocks`` blocks, each = ``local_layers`` transformer layers run on every
window independently (windows are folded into the batch), then one global layer
over the tokens of all windows of a frame. Every token carries 2D RoPE
coordinates (patch tokens and the short-term context: their patch position;
1D tokens and the long-term context: their window's centre), applied per
component as in the paper; because RoPE is relative, local layers can use the
coordinates of a single window for all windows.

::

    x (B·N, S, D) --[local × N_e]--> (B·N, S, D) --fold--> (B, N·S, D) --[global]--> unfold
                  '------------------------------ × M_e blocks ---------------------------'
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from vid1d.nn import TransformerBlock, rope_nd


class LocalGlobalTransformer(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, blocks: int, local_layers: int,
                 cond_dim: int):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.local = nn.ModuleList(
            nn.ModuleList(TransformerBlock(dim, heads, mlp_ratio, cond_dim=cond_dim)
                          for _ in range(local_layers))
            for _ in range(blocks)
        )
        self.glob = nn.ModuleList(TransformerBlock(dim, heads, mlp_ratio, cond_dim=cond_dim)
                                  for _ in range(blocks))

    def forward(self, x: torch.Tensor, coords: torch.Tensor, cond: torch.Tensor,
                batch: int, capture_last: bool = False) -> torch.Tensor:
        """x (B·N, S, D); coords (N, S, 2) global patch units; cond (B, cond_dim)."""
        n_win, seq = coords.shape[:2]
        local_rope = rope_nd(coords[0] - coords[0].amin(dim=0), self.head_dim)  # (S, hd/2) ×2
        global_rope = rope_nd(coords.reshape(n_win * seq, 2), self.head_dim)  # (N·S, hd/2) ×2
        local_rope = tuple(t.to(x.device) for t in local_rope)
        global_rope = tuple(t.to(x.device) for t in global_rope)
        cond_local = cond.repeat_interleave(n_win, dim=0)  # (B·N, cond_dim)
        for b, (local_layers, global_layer) in enumerate(zip(self.local, self.glob, strict=True)):
            for layer in local_layers:
                x = layer(x, cond_local, rope=local_rope)  # (B·N, S, D)
            x = rearrange(x, "(b n) s d -> b (n s) d", b=batch)  # (B, N·S, D)
            last = capture_last and b == len(self.glob) - 1
            x = global_layer(x, cond, rope=global_rope, return_weights=last)
            x = rearrange(x, "b (n s) d -> (b n) s d", n=n_win)  # (B·N, S, D)
        return x

    def last_attention(self) -> torch.Tensor | None:
        """(B, heads, N·S, N·S) weights of the last global layer, if captured."""
        return self.glob[-1].attn.last_weights
