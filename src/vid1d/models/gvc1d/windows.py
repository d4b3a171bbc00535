"""Windows of patches (papers/gvc1d.txt §3.1): padding, partition, coordinates.

A frame of any size is replicate-padded to whole windows (``window_px`` =
patch × window pixels; a frame smaller than one window becomes one window) and
cropped back after decoding. Token grids are ``(B, h, w, D)`` with h, w in
patches; windowed they become ``(B·N, P, D)`` with N windows and P = window²
patches each, in raster order of windows.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange


def padded_size(height: int, width: int, window_px: int) -> tuple[int, int]:
    return (max(1, math.ceil(height / window_px)) * window_px,
            max(1, math.ceil(width / window_px)) * window_px)


def pad_frame(x: torch.Tensor, window_px: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H', W'), replicate padding at the bottom/right."""
    H, W = x.shape[-2:]
    Hp, Wp = padded_size(H, W, window_px)
    if (Hp, Wp) == (H, W):
        return x
    return F.pad(x, (0, Wp - W, 0, Hp - H), mode="replicate")


def to_windows(grid: torch.Tensor, window: int) -> torch.Tensor:
    """(B, h, w, D) -> (B·N, window², D)."""
    return rearrange(grid, "b (nh p) (nw q) d -> (b nh nw) (p q) d", p=window, q=window)


def from_windows(x: torch.Tensor, batch: int, nh: int, nw: int, window: int) -> torch.Tensor:
    """(B·N, window², D) -> (B, h, w, D)."""
    return rearrange(x, "(b nh nw) (p q) d -> b (nh p) (nw q) d", b=batch, nh=nh, nw=nw, p=window)


def patch_coords(nh: int, nw: int, window: int) -> torch.Tensor:
    """Global (row, col) patch coordinates in windowed order: (N, window², 2)."""
    ys, xs = torch.meshgrid(torch.arange(nh * window), torch.arange(nw * window), indexing="ij")
    grid = torch.stack([ys, xs], dim=-1).float()[None]  # (1, h, w, 2)
    return to_windows(grid, window)  # (N, P, 2)


def token_coords(nh: int, nw: int, window: int, tokens: int) -> torch.Tensor:
    """1D tokens sit at their window's centre for 2D RoPE: (N, tokens, 2).

    Tokens of one window share the coordinate (RoPE then treats them as
    co-located, and learned per-token embeddings tell them apart); across windows
    the RoPE offset is the windows' spatial offset.
    """
    wy, wx = torch.meshgrid(torch.arange(nh), torch.arange(nw), indexing="ij")
    centre = torch.stack([wy, wx], dim=-1).reshape(-1, 1, 2).float() * window + (window - 1) / 2
    return centre.expand(-1, tokens, 2)
