"""Patch embedding and the convolutional output head (unpatchify)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


class PatchEmbed2d(nn.Module):
    """(B, C, H, W) -> (B, H/p, W/p, D) by a strided convolution (= linear on patches)."""

    def __init__(self, in_ch: int, dim: int, patch: int):
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(in_ch, dim, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rearrange(self.proj(x), "b d h w -> b h w d")


class ConvHead2d(nn.Module):
    """Token grid (B, h, w, D) -> image (B, C, h·p, w·p): linear to p²·C', pixel
    shuffle, then a 3×3 conv refinement with a residual (the usual ViT-codec head)."""

    def __init__(self, dim: int, out_ch: int, patch: int, hidden: int = 32):
        super().__init__()
        self.linear = nn.Linear(dim, patch * patch * hidden)
        self.patch = patch
        self.refine = nn.Sequential(nn.Conv2d(hidden, hidden, 3, padding=1), nn.GELU(),
                                    nn.Conv2d(hidden, out_ch, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = rearrange(self.linear(x), "b h w c -> b c h w")  # (B, p²·hidden, h, w)
        x = F.pixel_shuffle(x, self.patch)  # (B, hidden, H, W)
        return self.refine(x)
