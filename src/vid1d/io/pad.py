"""Pad frames to a multiple of a block size, and crop them back.

Codecs work on whole patches/windows (GVC1D: 256x256 windows of 16x16 patches), so
frames of any size are padded at the bottom and right and cropped after decoding.
Padding only ever adds rows/columns after the picture, so :func:`crop` is a slice.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vid1d.errors import InputError


def _pair(multiple: int | tuple[int, int]) -> tuple[int, int]:
    mh, mw = (multiple, multiple) if isinstance(multiple, int) else tuple(multiple)
    if mh < 1 or mw < 1:
        raise InputError(f"pad multiple must be positive, got {multiple}")
    return int(mh), int(mw)


def pad_to_multiple(x: torch.Tensor, multiple: int | tuple[int, int], mode: str = "replicate",
                    value: float = 0.0) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the last two dims of ``x`` (..., H, W) up to multiples of ``multiple``.

    ``multiple`` is one int or (mh, mw). ``mode="replicate"`` repeats the last
    row/column (no artificial edge for the codec to spend bits on);
    ``mode="constant"`` fills with ``value``. Returns ``(x_padded, (H, W))``; pass the
    original size to :func:`crop` to undo.
    """
    if x.ndim < 2:
        raise InputError(f"pad_to_multiple expects (..., H, W), got shape {tuple(x.shape)}")
    mh, mw = _pair(multiple)
    H, W = x.shape[-2:]
    ph, pw = -H % mh, -W % mw
    if ph == 0 and pw == 0:
        return x, (H, W)
    if mode == "constant":
        return F.pad(x, (0, pw, 0, ph), mode="constant", value=value), (H, W)
    if mode != "replicate":
        raise InputError(f"unknown pad mode {mode!r} (use 'replicate' or 'constant')")
    if H == 0 or W == 0:
        raise InputError("cannot replicate-pad an empty frame")
    # F.pad's replicate mode needs a (N, C, H, W) layout; fold the leading dims.
    lead = x.shape[:-2]
    y = F.pad(x.reshape(-1, 1, H, W), (0, pw, 0, ph), mode="replicate")
    return y.reshape(*lead, H + ph, W + pw), (H, W)


def crop(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple`: keep the top-left ``size=(H, W)`` of (..., H', W')."""
    H, W = size
    if x.ndim < 2 or H > x.shape[-2] or W > x.shape[-1] or H < 0 or W < 0:
        raise InputError(f"cannot crop shape {tuple(x.shape)} to {H}x{W}")
    return x[..., :H, :W]
