"""Causal 3D convolution blocks of the CNN video autoencoder (Wan-VAE / HunyuanVideo kind).

Causal in time everywhere, so output frame t never sees input frames after t:

* :class:`CausalConv3d` pads ``k_t − 1`` copies of the *first* frame on the past side
  and nothing on the future side; space is zero-padded ("same").
* :class:`FrameGroupNorm` normalizes each frame on its own. A GroupNorm over the
  whole (C, T, H, W) volume, as in most 3D VAEs, would let the statistics of future
  frames leak into past ones (Wan-VAE's RMS norm over channels is per frame too).
* :class:`Downsample3d` halves time with the stride of a causal conv (kernel 3,
  stride 2, two replicated past frames), which maps ``1 + 2k`` frames to ``1 + k``
  and leaves the first frame alone; :class:`Upsample3d` inverts it with a
  sub-pixel conv in time (Shi et al. 2016): one causal conv to 2·C channels, the two
  halves interleaved as two frames, and the first frame's extra copy dropped
  (``1 + k`` -> ``1 + 2k``).

Blocks take dimensions, never a config.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


def _triple(x: int | tuple[int, int, int]) -> tuple[int, int, int]:
    return (x, x, x) if isinstance(x, int) else tuple(x)


class CausalConv3d(nn.Module):
    """Conv3d, causal in time (first frame replicated into the past), zero "same" pad in space."""

    def __init__(self, dim_in: int, dim_out: int, kernel: int | tuple[int, int, int] = 3,
                 stride: int | tuple[int, int, int] = 1):
        super().__init__()
        kt, kh, kw = _triple(kernel)
        self.time_pad = kt - 1
        self.conv = nn.Conv3d(dim_in, dim_out, (kt, kh, kw), stride=_triple(stride),
                              padding=(0, kh // 2, kw // 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.time_pad:
            past = x[:, :, :1].expand(-1, -1, self.time_pad, -1, -1)
            x = torch.cat([past, x], dim=2)  # (B, C, T + k_t − 1, H, W)
        return self.conv(x)  # (B, C', T', H', W')


class FrameGroupNorm(nn.GroupNorm):
    """GroupNorm over (C, H, W) of each frame: statistics never mix frames."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B = x.shape[0]
        x = rearrange(x, "b c t h w -> (b t) c h w")  # (B·T, C, H, W)
        return rearrange(super().forward(x), "(b t) c h w -> b c t h w", b=B)  # (B, C, T, H, W)


class ResBlock3d(nn.Module):
    """Pre-norm residual block: (norm, SiLU, causal conv 3³) × 2; 1×1×1 skip if dims differ."""

    def __init__(self, dim_in: int, dim_out: int, groups: int):
        super().__init__()
        self.norm1 = FrameGroupNorm(groups, dim_in)
        self.conv1 = CausalConv3d(dim_in, dim_out, 3)
        self.norm2 = FrameGroupNorm(groups, dim_out)
        self.conv2 = CausalConv3d(dim_out, dim_out, 3)
        self.skip = nn.Conv3d(dim_in, dim_out, 1) if dim_in != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, T, H, W)
        h = self.conv2(F.silu(self.norm2(h)))  # (B, C_out, T, H, W)
        return self.skip(x) + h  # (B, C_out, T, H, W)


class Downsample3d(nn.Module):
    """Strided causal conv: space ÷ 2, and time ``1 + 2k -> 1 + k`` when ``time``."""

    def __init__(self, dim: int, time: bool):
        super().__init__()
        self.conv = CausalConv3d(dim, dim, 3, stride=(2 if time else 1, 2, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)  # (B, C, T or 1 + (T − 1)/2, H/2, W/2)


class Upsample3d(nn.Module):
    """Space × 2 (nearest + causal conv); time ``1 + k -> 1 + 2k`` (sub-pixel conv) if ``time``.

    Output frame ``2j − 1 + r`` (r ∈ {0, 1}) depends on input frames ≤ j only, and
    frame 0 on input frame 0 only. The conv after the spatial upsampling already
    narrows to ``dim_out``: at the new resolution it is the costliest conv of a stage.
    """

    def __init__(self, dim_in: int, dim_out: int, time: bool):
        super().__init__()
        self.time_conv = CausalConv3d(dim_in, 2 * dim_in, (3, 1, 1)) if time else None
        self.conv = CausalConv3d(dim_in, dim_out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.time_conv is not None:
            x = self.time_conv(x)  # (B, 2C, T, H, W)
            x = rearrange(x, "b (r c) t h w -> b c (t r) h w", r=2)  # (B, C, 2T, H, W)
            x = x[:, :, 1:]  # (B, C, 2T − 1, H, W): the first frame stays one frame
        x = F.interpolate(x, scale_factor=(1, 2, 2), mode="nearest")  # (B, C, T', 2H, 2W)
        return self.conv(x)  # (B, C_out, T', 2H, 2W)


__all__ = ["CausalConv3d", "Downsample3d", "FrameGroupNorm", "ResBlock3d", "Upsample3d"]
