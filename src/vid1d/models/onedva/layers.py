"""One-DVA building blocks: 3D padding and (un)patchifying, fixed positional codes,
scalar "special token" embeddings and the timestep embedding. Dimensions in,
no configs (so each is testable alone)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def pad_video(video: torch.Tensor, mult_t: int, mult_s: int) -> torch.Tensor:
    """(B, C, T, H, W) -> padded to multiples: zeros in space, the last frame repeated in time."""
    T, H, W = video.shape[-3:]
    pt, ph, pw = (-T) % mult_t, (-H) % mult_s, (-W) % mult_s
    if ph or pw:
        video = F.pad(video, (0, pw, 0, ph))  # zero padding, right/bottom
    if pt:
        video = torch.cat([video, video[:, :, -1:].expand(-1, -1, pt, -1, -1)], dim=2)
    return video


def patchify(video: torch.Tensor, pt: int, ps: int) -> torch.Tensor:
    """(B, C, T, H, W) with T % pt == H % ps == W % ps == 0 -> (B, t·h·w, C·pt·ps·ps)."""
    return rearrange(video, "b c (t pt) (h ph) (w pw) -> b (t h w) (c pt ph pw)", pt=pt, ph=ps, pw=ps)


def sincos_1d(pos: torch.Tensor, dim: int, base: float = 10000.0) -> torch.Tensor:
    """(N,) positions -> (N, dim) [sin | cos] codes (Vaswani et al. 2017)."""
    half = dim // 2
    freqs = torch.exp(-math.log(base) * torch.arange(half, dtype=torch.float64, device=pos.device) / half)
    ang = pos.to(torch.float64)[:, None] * freqs[None]
    return torch.cat([ang.sin(), ang.cos()], dim=1).float()


def sincos_3d(t: int, h: int, w: int, dim: int, step: tuple[float, float, float] = (1, 1, 1)
              ) -> torch.Tensor:
    """Absolute positional codes of a t×h×w grid, (t·h·w, dim): a third of the
    channels per axis (dim divisible by 6). ``step`` is the cell size in the
    caller's units, codes are taken at cell centres, so grids of different
    resolution (8-px patches, 16-px latents) share one coordinate frame."""
    d = dim // 3
    axes = [(torch.arange(n, dtype=torch.float64) + 0.5) * s for n, s in zip((t, h, w), step, strict=True)]
    gt, gh, gw = torch.meshgrid(*axes, indexing="ij")
    return torch.cat([sincos_1d(g.flatten(), d) for g in (gt, gh, gw)], dim=1)


class ScalarEmbed(nn.Module):
    """A scalar (a timestep, a height, an aspect ratio) -> a D-vector: sinusoidal code
    of ``scale·value`` then a 2-layer MLP (DiT's TimestepEmbedder)."""

    def __init__(self, dim: int, freq_dim: int = 128, scale: float = 1000.0):
        super().__init__()
        self.freq_dim, self.scale = freq_dim, scale
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, value: torch.Tensor) -> torch.Tensor:
        """value (B,) -> (B, dim)."""
        return self.mlp(sincos_1d(value * self.scale, self.freq_dim).to(value.device))


class SpecialTokens(nn.Module):
    """The multi-resolution tokens of §3.1 (after NaViT/Patch n' Pack): height, width,
    length, spatial size and aspect ratio of the input, one token each."""

    NAMES = ("height", "width", "length", "area", "aspect")

    def __init__(self, dim: int):
        super().__init__()
        self.embed = nn.ModuleList(ScalarEmbed(dim, scale=100.0) for _ in self.NAMES)

    def forward(self, batch: int, frames: int, height: int, width: int, device) -> torch.Tensor:
        """-> (B, 5, dim); sizes in units of 256 pixels / 16 frames, area in 256² pixels."""
        values = (height / 256, width / 256, frames / 16, height * width / 256**2, width / height)
        out = [emb(torch.full((batch,), float(v), device=device))
               for emb, v in zip(self.embed, values, strict=True)]
        return torch.stack(out, dim=1)


class Unpatchifier(nn.Module):
    """Decoder output head (§3.3): long skip + linear + pixel shuffle + conv.

    Tokens (B, t·h·w, D) at the noisy positions -> linear to (pt·ps·ps·hidden) per
    token -> pixel shuffle to (B, hidden, T, H, W) -> a 3×3 conv per frame over
    [shuffled features ⊕ the noisy input x_t] to ``out_ch`` channels. The long
    skip carries x_t itself to the last layer: the velocity ε − x_0 contains the
    noise exactly, which a token width smaller than a patch (3·2·8·8 = 384
    values) could not carry through the transformer.
    """

    def __init__(self, dim: int, out_ch: int, pt: int, ps: int, hidden: int):
        super().__init__()
        self.pt, self.ps, self.hidden = pt, ps, hidden
        self.norm = nn.LayerNorm(dim)
        self.proj = nn.Linear(dim, pt * ps * ps * hidden)
        self.act = nn.SiLU()
        self.conv = nn.Conv2d(hidden + out_ch, out_ch, 3, padding=1)
        # Start as v̂ = x_t (the velocity when x_0 = 0, mid-grey): the skip's centre tap
        # is the identity, so the network only has to learn −x_0 on top.
        with torch.no_grad():
            self.conv.weight[:, hidden:].zero_()
            self.conv.weight[:, hidden:, 1, 1] = torch.eye(out_ch)

    def forward(self, x: torch.Tensor, skip: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
        """x (B, t·h·w, D) tokens; skip (B, out_ch, t·pt, h·ps, w·ps) the noisy input."""
        t, h, w = grid
        y = self.proj(self.norm(x))  # (B, t·h·w, pt·ps·ps·hidden)
        y = rearrange(y, "b (t h w) (pt ph pw c) -> (b t pt) c (h ph) (w pw)",
                      t=t, h=h, w=w, pt=self.pt, ph=self.ps, pw=self.ps)  # pixel shuffle
        s = rearrange(skip, "b c t h w -> (b t) c h w")
        y = self.conv(torch.cat([self.act(y), s], dim=1))  # (B·T, out, H, W)
        return rearrange(y, "(b t) c h w -> b c t h w", t=t * self.pt)
