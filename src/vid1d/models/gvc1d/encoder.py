"""GVC1D encoder (§3.1, eq. 1–3): y_t = Enc(E_t ⊕ L ⊕ C), C = C_l ⊕ C_s.

Per window the sequence is [patch embeddings E (P) ⊕ short-term context C_s (P)
⊕ learnable 1D latent tokens L (T) ⊕ long-term context C_l (T)]; after the
local/global transformer, the L positions are projected to ``token_channels``.
An intra frame has no context: C_s and C_l are learned "empty" tokens.
"""

from __future__ import annotations

import torch
from torch import nn

from vid1d.models.gvc1d.config import GVC1DConfig
from vid1d.models.gvc1d.transformer import LocalGlobalTransformer
from vid1d.models.gvc1d.windows import patch_coords, to_windows, token_coords
from vid1d.nn import PatchEmbed2d

# Component ids for the learned type embeddings.
PATCH, SHORT, TOKEN, LONG = range(4)


class ContextTokens(nn.Module):
    """Shared handling of [grid ⊕ C_s ⊕ 1D ⊕ C_l] sequences for encoder and decoder."""

    def __init__(self, cfg: GVC1DConfig):
        super().__init__()
        d = cfg.dim
        self.cfg = cfg
        self.type_embed = nn.Parameter(torch.randn(4, d) * 0.02)
        self.token_pos = nn.Parameter(torch.randn(cfg.tokens, d) * 0.02)  # index of a 1D token
        # Position of a patch inside its window. RoPE alone leaves the decoder's
        # identical mask tokens nearly indistinguishable (their only difference is
        # a rotation relative to the 1D tokens at the window centre), and a CPU
        # run without this stalled at a flat mean image; window-relative, so it
        # holds for any frame size.
        self.grid_pos = nn.Parameter(torch.randn(cfg.patches_per_window, d) * 0.02)
        self.short_proj = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d))
        self.long_proj = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d))
        self.empty_short = nn.Parameter(torch.zeros(d))
        self.empty_long = nn.Parameter(torch.randn(cfg.tokens, d) * 0.02)

    def assemble(self, grid_w: torch.Tensor, tokens_w: torch.Tensor, short: torch.Tensor | None,
                 long: torch.Tensor | None) -> torch.Tensor:
        """grid_w (B·N, P, D), tokens_w (B·N, T, D), short (B, h, w, D) | None,
        long (B·N, T, D) | None -> (B·N, 2P + 2T, D)."""
        bn, p, d = grid_w.shape
        w = self.cfg.window
        short_w = (self.empty_short.expand(bn, p, d) if short is None
                   else self.short_proj(to_windows(short, w)))  # (B·N, P, D)
        long_w = (self.empty_long.expand(bn, -1, -1) if long is None
                  else self.long_proj(long))  # (B·N, T, D)
        te = self.type_embed
        return torch.cat([grid_w + self.grid_pos + te[PATCH], short_w + self.grid_pos + te[SHORT],
                          tokens_w + self.token_pos + te[TOKEN],
                          long_w + self.token_pos + te[LONG]], dim=1)

    def coords(self, nh: int, nw: int, device: torch.device) -> torch.Tensor:
        """(N, 2P + 2T, 2) RoPE coordinates matching :meth:`assemble`'s order."""
        pc = patch_coords(nh, nw, self.cfg.window)
        tc = token_coords(nh, nw, self.cfg.window, self.cfg.tokens)
        return torch.cat([pc, pc, tc, tc], dim=1).to(device)


class GVC1DEncoder(nn.Module):
    def __init__(self, cfg: GVC1DConfig):
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbed2d(3, cfg.dim, cfg.patch)
        self.latent_tokens = nn.Parameter(torch.randn(cfg.tokens, cfg.dim) * 0.02)  # L
        self.context = ContextTokens(cfg)
        self.transformer = LocalGlobalTransformer(cfg.dim, cfg.heads, cfg.mlp_ratio,
                                                  cfg.enc_blocks, cfg.enc_local_layers, cfg.cond_dim)
        self.norm = nn.LayerNorm(cfg.dim)
        self.to_latent = nn.Linear(cfg.dim, cfg.token_channels)

    def forward(self, x: torch.Tensor, short: torch.Tensor | None, long: torch.Tensor | None,
                cond: torch.Tensor) -> torch.Tensor:
        """x (B, 3, H', W') padded to whole windows -> y (B·N, T, C)."""
        cfg = self.cfg
        B = x.shape[0]
        grid = self.patch_embed(x)  # (B, h, w, D)
        nh, nw = grid.shape[1] // cfg.window, grid.shape[2] // cfg.window
        grid_w = to_windows(grid, cfg.window)  # (B·N, P, D)
        tokens = self.latent_tokens.expand(grid_w.shape[0], -1, -1)  # (B·N, T, D)
        seq = self.context.assemble(grid_w, tokens, short, long)  # (B·N, 2P+2T, D)
        seq = self.transformer(seq, self.context.coords(nh, nw, x.device), cond, B)
        P = cfg.patches_per_window
        return self.to_latent(self.norm(seq[:, 2 * P : 2 * P + cfg.tokens]))  # (B·N, T, C)
