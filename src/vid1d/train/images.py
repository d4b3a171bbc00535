"""Sample-image grids written as PNG (matplotlib's writer; no extra dependency)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from einops import rearrange

from vid1d.utils.fs import atomic_path


def image_grid(images: torch.Tensor, ncol: int | None = None, pad: int = 2) -> np.ndarray:
    """``(N, 3, H, W)`` in [0, 1] -> an ``(rows·(H+pad)+pad, cols·(W+pad)+pad, 3)`` uint8 grid
    (row-major, white padding)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"sample_images must return (N, 3, H, W), got {tuple(images.shape)}")
    n, _, h, w = images.shape
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    x = images.detach().float().clamp(0, 1).cpu()
    canvas = torch.ones(nrow * ncol, 3, h + pad, w + pad)
    canvas[:n, :, pad:, pad:] = x
    grid = rearrange(canvas, "(r c) ch h w -> (r h) (c w) ch", r=nrow, c=ncol)
    grid = torch.nn.functional.pad(grid, (0, 0, 0, pad, 0, pad), value=1.0)
    return (grid * 255).round().to(torch.uint8).numpy()


def save_image_grid(images: torch.Tensor, path: str | Path, ncol: int | None = None) -> Path:
    import matplotlib.image

    path = Path(path)
    with atomic_path(path) as tmp:
        matplotlib.image.imsave(tmp, image_grid(images, ncol), format="png")
    return path
