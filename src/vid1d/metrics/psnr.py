"""PSNR per frame: RGB, and YUV with the JVET common-test-conditions 6:1:1 average.

Conventions (recorded by :func:`vid1d.metrics.metric_versions`):

- **RGB PSNR** of a frame is ``10 log10(R^2 / MSE)`` where MSE is the mean squared
  error over *all three channels together* (not the mean of per-channel PSNRs).
- **YUV PSNR** is computed per plane (Y, U, V at their own resolution, e.g. 4:2:0),
  and the combined value is ``(6 PSNR_Y + PSNR_U + PSNR_V) / 8``, the weighting
  the JVET common test conditions use for the combined YUV BD-rate.
- **Identical frames** (MSE = 0) would give +inf, which breaks averages and JSON.
  Every PSNR is therefore capped at ``max_db`` (default :data:`PSNR_MAX_DB` =
  100 dB). The cap is far above any lossy result: 8-bit rounding noise alone is
  about 59 dB, so a value of exactly 100 means "lossless" and nothing else.
  The YUV 6:1:1 average is taken over the capped plane values.

All arithmetic is in float64 so that tiny MSEs (near-lossless coding) keep
their precision; results are float64 tensors of shape ``(N,)`` on the input's
device.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from vid1d.errors import InputError
from vid1d.metrics._checks import check_data_range, check_pair

PSNR_MAX_DB = 100.0
"""Cap applied to every PSNR (the value reported for identical frames)."""


def mse(x: Tensor, y: Tensor) -> Tensor:
    """Mean squared error per frame over all channels and pixels: ``(N, C, H, W) -> (N,)``."""
    x, y = check_pair(x, y, "mse")
    return _mse(x, y)


def _mse(x: Tensor, y: Tensor) -> Tensor:
    d = x.double() - y.double()
    return (d * d).flatten(1).mean(1)


def _mse_to_psnr(err: Tensor, data_range: float, max_db: float) -> Tensor:
    # clamp before the log so identical frames give max_db, not inf (and no warning)
    floor = data_range**2 / 10 ** (max_db / 10)
    value = 10 * torch.log10(data_range**2 / err.clamp_min(floor))
    return value.clamp_max(max_db)


def psnr(x: Tensor, y: Tensor, data_range: float = 1.0, *, max_db: float = PSNR_MAX_DB) -> Tensor:
    """Per-frame PSNR in dB of frames ``(N, C, H, W)``: PSNR of the MSE over all channels.

    Args:
        x, y: frames in ``[0, data_range]`` (a single frame ``(C, H, W)`` is accepted;
            for a clip ``(C, T, H, W)`` use :func:`vid1d.metrics.clip_to_frames`).
        data_range: peak signal value (1.0 for float frames in [0, 1]).
        max_db: cap for identical frames (see the module docstring).

    Returns:
        ``(N,)`` float64, each value in ``(-inf, max_db]``.
    """
    x, y = check_pair(x, y, "psnr")
    data_range = check_data_range(data_range, "psnr")
    return _mse_to_psnr(_mse(x, y), data_range, max_db)


def _plane(p: Tensor, name: str) -> Tensor:
    if not isinstance(p, Tensor):
        raise InputError(f"psnr_yuv: plane {name} must be a tensor, got {type(p).__name__}")
    if p.dim() == 4 and p.shape[1] == 1:
        p = p[:, 0]
    if p.dim() != 3:
        raise InputError(
            f"psnr_yuv: plane {name} must be (N, H, W) or (N, 1, H, W), got {tuple(p.shape)}"
        )
    return p


def psnr_yuv(
    ref: Sequence[Tensor],
    dist: Sequence[Tensor],
    data_range: float = 1.0,
    *,
    max_db: float = PSNR_MAX_DB,
) -> dict[str, Tensor]:
    """Per-frame PSNR of each YUV plane and their JVET 6:1:1 average.

    Args:
        ref, dist: ``(Y, U, V)`` planes, each ``(N, H, W)`` or ``(N, 1, H, W)``;
            chroma planes may be subsampled (4:2:0, 4:2:2) but must match
            between ``ref`` and ``dist``.
        data_range: peak value (1.0 for planes normalized to [0, 1]; the JVET tools
            use ``2^bitdepth - 1`` on integer samples, which is the same thing).

    Returns:
        ``{"y", "u", "v", "yuv"}``, each ``(N,)`` float64, with
        ``yuv = (6 y + u + v) / 8``.
    """
    if len(ref) != 3 or len(dist) != 3:
        raise InputError(f"psnr_yuv: expected (Y, U, V) planes, got {len(ref)} and {len(dist)}")
    data_range = check_data_range(data_range, "psnr_yuv")
    out: dict[str, Tensor] = {}
    for name, r, d in zip("yuv", ref, dist, strict=True):
        r, d = _plane(r, name), _plane(d, name)
        r, d = check_pair(r.unsqueeze(1), d.unsqueeze(1), f"psnr_yuv (plane {name})")
        out[name] = _mse_to_psnr(_mse(r, d), data_range, max_db)
    if not out["y"].shape == out["u"].shape == out["v"].shape:
        raise InputError("psnr_yuv: planes have different numbers of frames")
    out["yuv"] = (6 * out["y"] + out["u"] + out["v"]) / 8
    return out
