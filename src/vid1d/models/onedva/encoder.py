"""Query-based ViT encoder with a KL bottleneck (papers/onedva.txt §3.1)::

    video (B,3,T,H,W) --pad (space 0, time replicate)--> patchify 4×8×8 --linear--> E + pos3d
    [E (t·h·w) ⊕ Q[:n1d] + q_pos ⊕ special (5)] --ViT × depth--> norm --linear--> (μ, log σ²)
         |                          |
         |                          '--> 1D latents  (n1d = ⌈(T−1)/4⌉·⌈H/16⌉·⌈W/16⌉, C)
         '--> first temporal slice of the compressed features --2×2 avg pool--> structural (⌈H/16⌉·⌈W/16⌉, C)

The structural latent "samples" the spatiotemporal features at the first
temporal patch (the frames a causal 3D VAE keeps as its first latent frame),
downsampled from the 8-pixel patch grid to the 16-pixel latent grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from vid1d.errors import InputError
from vid1d.models.onedva.config import OneDVAConfig
from vid1d.models.onedva.layers import SpecialTokens, ceil_div, pad_video, patchify, sincos_3d
from vid1d.nn import TransformerBlock


@dataclass
class Posterior:
    """Gaussian posteriors of the hybrid latent (diagonal, per channel)."""

    struct_mean: torch.Tensor  # (B, hs·ws, C)
    struct_logvar: torch.Tensor
    oned_mean: torch.Tensor  # (B, n1d, C)
    oned_logvar: torch.Tensor
    grid: tuple[int, int]  # (hs, ws) of the structural latent

    def sample(self, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        def draw(mean, logvar):
            eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            return mean + (0.5 * logvar).exp() * eps
        return draw(self.struct_mean, self.struct_logvar), draw(self.oned_mean, self.oned_logvar)

    def kl(self) -> torch.Tensor:
        """KL(q ‖ N(0, I)) per sample, averaged over latent elements: (B,)."""
        def kl(mean, logvar):
            return 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar)
        parts = [kl(self.struct_mean, self.struct_logvar).flatten(1)]
        if self.oned_mean.shape[1]:
            parts.append(kl(self.oned_mean, self.oned_logvar).flatten(1))
        return torch.cat(parts, dim=1).mean(dim=1)


def latent_counts(cfg: OneDVAConfig, frames: int, height: int, width: int) -> tuple[int, int]:
    """(1D latent count, structural latent count) for a T×H×W clip (§3.1)."""
    hs, ws = ceil_div(height, cfg.latent_s), ceil_div(width, cfg.latent_s)
    return ceil_div(frames - 1, cfg.latent_t) * hs * ws, hs * ws


class OneDVAEncoder(nn.Module):
    def __init__(self, cfg: OneDVAConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.embed = nn.Linear(3 * cfg.enc_patch_t * cfg.patch_s**2, d)
        self.queries = nn.Parameter(torch.randn(cfg.max_queries, d) * 0.02)  # learnable 1D queries
        self.query_pos = nn.Parameter(torch.randn(cfg.max_queries, d) * 0.02)  # their learnable PE
        self.special = SpecialTokens(d)
        self.blocks = nn.ModuleList(TransformerBlock(d, cfg.heads, cfg.mlp_ratio)
                                    for _ in range(cfg.enc_depth))
        self.norm = nn.LayerNorm(d)
        self.to_moments = nn.Linear(d, 2 * cfg.latent_channels)  # channel compression -> (μ, log σ²)
        with torch.no_grad():
            self.to_moments.bias[cfg.latent_channels :].fill_(cfg.logvar_init)

    def forward(self, video: torch.Tensor) -> Posterior:
        """video (B, 3, T, H, W) in [−1, 1] -> posteriors of the hybrid latent."""
        cfg = self.cfg
        B, _, T, H, W = video.shape
        n1d, _ = latent_counts(cfg, T, H, W)
        if n1d > cfg.max_queries:
            raise InputError(f"a {T}x{H}x{W} clip needs {n1d} 1D latents, this model has "
                             f"{cfg.max_queries} queries; use shorter or smaller clips")
        x = pad_video(video, cfg.enc_patch_t, cfg.latent_s)
        t, h, w = (x.shape[2] // cfg.enc_patch_t, x.shape[3] // cfg.patch_s,
                   x.shape[4] // cfg.patch_s)
        e = self.embed(patchify(x, cfg.enc_patch_t, cfg.patch_s))  # (B, t·h·w, D)
        e = e + sincos_3d(t, h, w, cfg.dim).to(e)
        q = (self.queries[:n1d] + self.query_pos[:n1d]).expand(B, -1, -1)  # (B, n1d, D)
        s = self.special(B, T, H, W, video.device)  # (B, 5, D)
        seq = torch.cat([e, q, s], dim=1)
        for blk in self.blocks:
            seq = blk(seq)
        moments = self.to_moments(self.norm(seq[:, : t * h * w + n1d]))  # (B, t·h·w + n1d, 2C)
        grid = rearrange(moments[:, : t * h * w], "b (t h w) c -> b t c h w", t=t, h=h)[:, 0]
        f = cfg.latent_s // cfg.patch_s
        struct = F.avg_pool2d(grid, f)  # (B, 2C, hs, ws)
        hs, ws = struct.shape[-2:]
        struct = rearrange(struct, "b c h w -> b (h w) c")
        oned = moments[:, t * h * w :]  # (B, n1d, 2C)
        sm, sl = struct.chunk(2, dim=-1)
        om, ol = oned.chunk(2, dim=-1)
        clamp = (-30.0, 20.0)
        return Posterior(sm, sl.clamp(*clamp), om, ol.clamp(*clamp), (hs, ws))
