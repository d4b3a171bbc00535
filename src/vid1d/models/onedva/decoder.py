"""Pixel-space DiT decoder (papers/onedva.txt §3.3)::

    x_t (B,3,T,H,W) --pad--> patchify 2×8×8 --linear--> X + pos3d            (noisy positions)
    structural (hs·ws, C) --linear--> + pos3d(16-px grid) + type             (latent positions)
    1D (n1d, C) --linear--> + index PE + type; dropped tail -> learned padding token
    [X ⊕ latents] --DiT blocks (adaLN-Zero on the timestep t)--> X' = out[:, :t·h·w]
    X' --unpatchifier (linear + pixel shuffle + conv over [· ⊕ x_t], the long skip)--> v̂

Positions share one frame (units of 8-px patches / decoder time patches), so
the structural latent sits where its pixels are.
"""

from __future__ import annotations

import torch
from torch import nn

from vid1d.models.onedva.config import OneDVAConfig
from vid1d.models.onedva.layers import ScalarEmbed, Unpatchifier, pad_video, patchify, sincos_3d
from vid1d.nn import TransformerBlock


class OneDVADecoder(nn.Module):
    def __init__(self, cfg: OneDVAConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.embed = nn.Linear(3 * cfg.dec_patch_t * cfg.patch_s**2, d)
        self.latent_embed = nn.Linear(cfg.latent_channels, d)
        self.type_embed = nn.Parameter(torch.randn(2, d) * 0.02)  # structural, 1D
        self.oned_pos = nn.Parameter(torch.randn(cfg.max_queries, d) * 0.02)
        self.pad_token = nn.Parameter(torch.randn(d) * 0.02)  # replaces dropped 1D latents
        self.t_embed = ScalarEmbed(d)
        self.blocks = nn.ModuleList(TransformerBlock(d, cfg.heads, cfg.mlp_ratio, cond_dim=d)
                                    for _ in range(cfg.dec_depth))
        self.out = Unpatchifier(d, 3, cfg.dec_patch_t, cfg.patch_s, cfg.head_hidden)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, struct: torch.Tensor, oned: torch.Tensor,
                keep: torch.Tensor | None = None, return_features: int | None = None):
        """x_t (B, 3, T, H, W); t (B,); struct (B, hs·ws, C); oned (B, n1d, C);
        keep (B, n1d) bool (None: all kept). Returns v̂ (B, 3, T, H, W), and with
        ``return_features=k`` also block k's output at the noisy positions (B, t·h·w, D)."""
        cfg = self.cfg
        B, _, T, H, W = x_t.shape
        x = pad_video(x_t, cfg.dec_patch_t, cfg.latent_s)
        tt, h, w = (x.shape[2] // cfg.dec_patch_t, x.shape[3] // cfg.patch_s,
                    x.shape[4] // cfg.patch_s)
        X = self.embed(patchify(x, cfg.dec_patch_t, cfg.patch_s))  # (B, t·h·w, D)
        X = X + sincos_3d(tt, h, w, cfg.dim).to(X)
        f = cfg.latent_s / cfg.patch_s
        hs, ws = h * cfg.patch_s // cfg.latent_s, w * cfg.patch_s // cfg.latent_s
        S = self.latent_embed(struct) + self.type_embed[0]  # (B, hs·ws, D)
        S = S + sincos_3d(1, hs, ws, cfg.dim, step=(1.0, f, f)).to(S)
        n1d = oned.shape[1]
        Z = self.latent_embed(oned) + self.type_embed[1] + self.oned_pos[:n1d]  # (B, n1d, D)
        if keep is not None:
            Z = torch.where(keep[..., None], Z, self.pad_token.to(Z).expand_as(Z))
        cond = self.t_embed(t.to(X.dtype))  # (B, D)
        seq = torch.cat([X, S, Z], dim=1)
        n = tt * h * w
        feats = None
        for k, blk in enumerate(self.blocks):
            seq = blk(seq, cond)
            if k == return_features:
                feats = seq[:, :n]
        v = self.out(seq[:, :n], x, (tt, h, w))[:, :, :T, :H, :W]  # (B, 3, T, H, W)
        return v if return_features is None else (v, feats)
