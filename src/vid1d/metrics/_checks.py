"""Input validation shared by the full-reference metrics (one-line InputErrors)."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor

from vid1d.errors import InputError


def clip_to_frames(x: Tensor) -> Tensor:
    """Turn a clip ``(C, T, H, W)`` or a batch of clips ``(B, C, T, H, W)`` into frames.

    The frame metrics (:func:`~vid1d.metrics.psnr`, :func:`~vid1d.metrics.ssim`, ...)
    take ``(N, C, H, W)``; a 4-D tensor is ambiguous between a clip and a batch of
    frames, so clips must go through this helper explicitly. Frames come out in
    time order (clip-major for a batch): ``(C, T, H, W) -> (T, C, H, W)`` and
    ``(B, C, T, H, W) -> (B*T, C, H, W)``.
    """
    if not isinstance(x, Tensor):
        raise InputError(f"clip_to_frames expects a tensor, got {type(x).__name__}")
    if x.dim() == 4:
        return rearrange(x, "c t h w -> t c h w")
    if x.dim() == 5:
        return rearrange(x, "b c t h w -> (b t) c h w")
    raise InputError(f"clip_to_frames expects (C, T, H, W) or (B, C, T, H, W), got {tuple(x.shape)}")


def check_pair(x: Tensor, y: Tensor, name: str, *, min_side: int = 1) -> tuple[Tensor, Tensor]:
    """Validate two frame batches ``(N, C, H, W)`` (or one frame ``(C, H, W)``).

    Returns both as floating point (float32 unless the input is float64) on the
    same device, 4-D.
    """
    for t, label in ((x, "x"), (y, "y")):
        if not isinstance(t, Tensor):
            raise InputError(f"{name}: {label} must be a tensor, got {type(t).__name__}")
        if not t.is_floating_point():
            raise InputError(
                f"{name}: {label} must be a float tensor in [0, data_range], got {t.dtype}"
            )
    if x.shape != y.shape:
        raise InputError(f"{name}: shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    if x.device != y.device:
        raise InputError(f"{name}: tensors are on different devices: {x.device} vs {y.device}")
    if x.dim() == 3:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    if x.dim() != 4:
        raise InputError(
            f"{name}: expected frames (N, C, H, W) or one frame (C, H, W), got {tuple(x.shape)}; "
            "for a clip (C, T, H, W) use vid1d.metrics.clip_to_frames"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise InputError(f"{name}: empty input {tuple(x.shape)}")
    if min(x.shape[-2:]) < min_side:
        raise InputError(
            f"{name}: frames of {x.shape[-1]}x{x.shape[-2]} are too small "
            f"(both sides must be at least {min_side})"
        )
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    return x.to(dtype), y.to(dtype)


def check_data_range(data_range: float, name: str) -> float:
    if not (isinstance(data_range, int | float) and data_range > 0):
        raise InputError(f"{name}: data_range must be a positive number, got {data_range!r}")
    return float(data_range)
