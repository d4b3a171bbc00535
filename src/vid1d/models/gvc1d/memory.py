"""Long-term 1D memory (papers/gvc1d.txt §3.2, Fig. 3).

A fixed-size memory state per window (``memory_tokens`` × D, so its size never
grows with the number of frames) is

* **updated** after each frame by D_m transformer layers over
  [memory ⊕ ŷ_t] (the "1d" variant: the few decoded 1D tokens of the frame), or
  over [memory ⊕ f_t] (the "2d" variant of Table 3: the frame's dense decoder
  features, i.e. the short-term context), keeping the memory positions;
* **read out** before each frame by learnable queries (one per 1D token)
  attending to the memory, giving the long-term context C_l (B·N, T, D).

The "none" variant has no state and gives no long-term context (C_l = the
learned empty tokens of the encoder/decoder/entropy model).
"""

from __future__ import annotations

import torch
from torch import nn

from vid1d.models.gvc1d.config import GVC1DConfig
from vid1d.models.gvc1d.windows import to_windows
from vid1d.nn import TransformerBlock


class LongTermMemory(nn.Module):
    def __init__(self, cfg: GVC1DConfig):
        super().__init__()
        self.cfg = cfg
        self.kind = cfg.memory
        d = cfg.dim
        if self.kind == "none":
            return
        self.init_state = nn.Parameter(torch.randn(cfg.memory_tokens, d) * 0.02)
        in_dim = cfg.token_channels if self.kind == "1d" else d
        self.in_proj = nn.Sequential(nn.Linear(in_dim, d), nn.LayerNorm(d))
        self.in_type = nn.Parameter(torch.randn(2, d) * 0.02)  # memory vs incoming
        self.update_layers = nn.ModuleList(
            TransformerBlock(d, cfg.heads, cfg.mlp_ratio, cond_dim=cfg.cond_dim)
            for _ in range(cfg.memory_layers))
        self.queries = nn.Parameter(torch.randn(cfg.tokens, d) * 0.02)
        self.readout_layers = nn.ModuleList(
            TransformerBlock(d, cfg.heads, cfg.mlp_ratio, cond_dim=cfg.cond_dim)
            for _ in range(cfg.readout_layers))
        self.out_norm = nn.LayerNorm(d)

    @property
    def enabled(self) -> bool:
        return self.kind != "none"

    def initial_state(self, n: int) -> torch.Tensor | None:
        """State for ``n`` = B·N windows at an intra frame: (B·N, M, D)."""
        return None if not self.enabled else self.init_state.expand(n, -1, -1)

    def readout(self, state: torch.Tensor | None, cond_w: torch.Tensor) -> torch.Tensor | None:
        """state (B·N, M, D), cond_w (B·N, cond) -> C_l (B·N, T, D)."""
        if state is None:
            return None
        T = self.cfg.tokens
        x = torch.cat([self.queries.expand(state.shape[0], -1, -1), state], dim=1)
        for layer in self.readout_layers:
            x = layer(x, cond_w)  # (B·N, T + M, D)
        return self.out_norm(x[:, :T])

    def update(self, state: torch.Tensor | None, y_hat: torch.Tensor, feats: torch.Tensor,
               cond_w: torch.Tensor) -> torch.Tensor | None:
        """Fold frame t into the state. y_hat (B·N, T, C); feats (B, h, w, D)."""
        if state is None:
            return None
        incoming = y_hat if self.kind == "1d" else to_windows(feats, self.cfg.window)
        incoming = self.in_proj(incoming) + self.in_type[1]  # (B·N, T or P, D)
        M = state.shape[1]
        x = torch.cat([state + self.in_type[0], incoming], dim=1)
        for layer in self.update_layers:
            x = layer(x, cond_w)
        return x[:, :M]  # (B·N, M, D): same size every frame
