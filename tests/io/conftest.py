"""Helpers shared by the video I/O tests: synthetic planes and smooth RGB clips."""

from __future__ import annotations

import pytest
import torch

from vid1d.io import PLANAR_FORMATS


def _random_planes(pix_fmt: str, width: int, height: int, frames: int, seed: int = 0):
    """Random integer samples of ``pix_fmt`` as float planes (code / max), exactly representable."""
    fmt = PLANAR_FORMATS[pix_fmt]
    g = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randint(0, fmt.max_value + 1, (frames, *shape), generator=g).float() / fmt.max_value
        for shape in fmt.plane_shapes(width, height)
    )


def _smooth_rgb(frames: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """A (3, T, H, W) clip of moving gradients and blobs, on the 8-bit grid."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(frames).view(frames, 1, 1).float()
    yy = torch.linspace(0, 1, height).view(1, height, 1)
    xx = torch.linspace(0, 1, width).view(1, 1, width)
    phase = torch.rand(3, generator=g) * 6.28
    chans = [0.5 + 0.45 * torch.sin(6 * xx + 4 * yy + 0.3 * t + phase[c]) for c in range(3)]
    x = torch.stack(chans).expand(3, frames, height, width)
    return torch.round(x * 255) / 255


@pytest.fixture
def random_planes():
    """Factory: ``random_planes(pix_fmt, width, height, frames, seed=0)``."""
    return _random_planes


@pytest.fixture
def smooth_rgb():
    """Factory: ``smooth_rgb(frames, height, width, seed=0)``."""
    return _smooth_rgb
