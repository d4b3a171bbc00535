"""GVC1D decoder (§3.1, eq. 4): x̂_t = Out(Dec(ŷ_t ⊕ M ⊕ C)).

Learnable mask tokens M (one per patch) take the patch positions; ŷ_t is
projected back to the model width at the 1D-token positions. After the
local/global transformer, the mask positions are the decoder features f_t —
the next frame's short-term context (§3.2) — and a convolutional head turns
them into pixels.
"""

from __future__ import annotations

import torch
from torch import nn

from vid1d.models.gvc1d.config import GVC1DConfig
from vid1d.models.gvc1d.encoder import ContextTokens
from vid1d.models.gvc1d.transformer import LocalGlobalTransformer
from vid1d.models.gvc1d.windows import from_windows
from vid1d.nn import ConvHead2d


class GVC1DDecoder(nn.Module):
    def __init__(self, cfg: GVC1DConfig):
        super().__init__()
        self.cfg = cfg
        self.mask_token = nn.Parameter(torch.randn(cfg.dim) * 0.02)  # M
        self.from_latent = nn.Linear(cfg.token_channels, cfg.dim)
        self.context = ContextTokens(cfg)
        self.transformer = LocalGlobalTransformer(cfg.dim, cfg.heads, cfg.mlp_ratio,
                                                  cfg.dec_blocks, cfg.dec_local_layers, cfg.cond_dim)
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = ConvHead2d(cfg.dim, 3, cfg.patch, hidden=cfg.head_hidden)
        self.capture_attention = False  # analysis (§3.3): keep the last layer's weights

    def forward(self, y_hat: torch.Tensor, short: torch.Tensor | None, long: torch.Tensor | None,
                cond: torch.Tensor, batch: int, nh: int, nw: int,
                capture_attention: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """y_hat (B·N, T, C) -> (x̂ (B, 3, H', W'), f_t (B, h, w, D))."""
        cfg = self.cfg
        P = cfg.patches_per_window
        grid_w = self.mask_token.expand(y_hat.shape[0], P, -1)  # (B·N, P, D)
        tokens = self.from_latent(y_hat)  # (B·N, T, D)
        seq = self.context.assemble(grid_w, tokens, short, long)  # (B·N, 2P+2T, D)
        seq = self.transformer(seq, self.context.coords(nh, nw, y_hat.device), cond, batch,
                               capture_last=capture_attention or self.capture_attention)
        feats = from_windows(self.norm(seq[:, :P]), batch, nh, nw, cfg.window)  # (B, h, w, D)
        x_hat = self.head(feats)  # (B, 3, H', W')
        return x_hat, feats
