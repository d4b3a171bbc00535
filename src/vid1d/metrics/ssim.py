"""SSIM (Wang et al. 2004) and MS-SSIM (Wang, Simoncelli & Bovik 2003), per frame.

Both follow the parameters of the papers and of the reference implementations:
an 11-tap Gaussian window with sigma 1.5 applied separably as a *valid*
convolution (no padding), ``K1 = 0.01``, ``K2 = 0.03``, ``C1 = (K1 R)^2``,
``C2 = (K2 R)^2``. Colour frames are scored per channel and the channel scores
averaged, so an RGB frame gives one number.

MS-SSIM (Wang et al. 2003, "Multi-scale structural similarity for image quality
assessment", Asilomar): the contrast-structure term ``cs_j`` at scales
``j = 1..M-1`` and the full SSIM at the coarsest scale ``M``, combined as
``prod_j cs_j^{w_j} * ssim_M^{w_M}`` with the paper's weights
``(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)``. As in ``pytorch-msssim`` (the
implementation most learned-codec papers report), negative ``cs``/``ssim`` values
are clipped to 0 before the power (a negative base has no real power), and
downsampling is a 2x2 average pool that zero-pads odd sides by one pixel
(``avg_pool2d(kernel_size=2, padding=side % 2)``); results agree with
``pytorch_msssim.ms_ssim`` to ~1e-6.

Small frames: five scales need the coarsest scale to still hold an 11-pixel
window, i.e. a shorter side above ``(11 - 1) * 2^4 = 160`` pixels. For smaller
frames the default policy ``small="fewer_scales"`` uses the largest number of
scales ``M`` that fits (shorter side > ``10 * 2^(M-1)``), keeps the finest ``M``
weights and renormalizes them to sum to one (so a constant per-scale similarity
``s`` still gives ``s``). The 176x144 QCIF sample clip therefore gets 4 scales.
Pass ``return_scales=True`` to get the number used, and record it with
:func:`vid1d.metrics.metric_versions`. ``small="error"`` raises instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from vid1d.errors import InputError
from vid1d.metrics._checks import check_data_range, check_pair

WIN_SIZE = 11
WIN_SIGMA = 1.5
K1, K2 = 0.01, 0.03
MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
"""Per-scale exponents of Wang et al. 2003, finest scale first."""


def _gaussian_window(dtype: torch.dtype, device: torch.device) -> Tensor:
    coords = torch.arange(WIN_SIZE, dtype=torch.float64) - WIN_SIZE // 2
    g = torch.exp(-(coords**2) / (2 * WIN_SIGMA**2))
    return (g / g.sum()).to(dtype=dtype, device=device)


def _blur(x: Tensor, win: Tensor) -> Tensor:
    """Separable valid Gaussian filter of every channel: ``(N, K, H, W) -> (N, K, H-10, W-10)``."""
    k = x.shape[1]
    x = F.conv2d(x, win.view(1, 1, 1, -1).expand(k, 1, 1, -1), groups=k)
    return F.conv2d(x, win.view(1, 1, -1, 1).expand(k, 1, -1, 1), groups=k)


def _ssim_cs(x: Tensor, y: Tensor, data_range: float) -> tuple[Tensor, Tensor]:
    """Mean SSIM and mean contrast-structure term per frame and channel: ``(N, C)`` each."""
    c = x.shape[1]
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    win = _gaussian_window(x.dtype, x.device)
    # one grouped convolution filters all five moment images at once
    moments = _blur(torch.cat([x, y, x * x, y * y, x * y], dim=1), win)  # (N, 5C, h, w)
    mu_x, mu_y, xx, yy, xy = moments.split(c, dim=1)
    mu_xx, mu_yy, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    sigma_xx, sigma_yy, sigma_xy = xx - mu_xx, yy - mu_yy, xy - mu_xy
    cs_map = (2 * sigma_xy + c2) / (sigma_xx + sigma_yy + c2)
    ssim_map = (2 * mu_xy + c1) / (mu_xx + mu_yy + c1) * cs_map
    return ssim_map.flatten(2).mean(-1), cs_map.flatten(2).mean(-1)


def ssim(x: Tensor, y: Tensor, data_range: float = 1.0) -> Tensor:
    """Per-frame SSIM of frames ``(N, C, H, W)`` (mean over pixels, then channels).

    Both sides must be at least 11 pixels (one valid window).

    Returns:
        ``(N,)`` in the input's float dtype (float32 for half/bfloat16 inputs).
    """
    x, y = check_pair(x, y, "ssim", min_side=WIN_SIZE)
    data_range = check_data_range(data_range, "ssim")
    s, _ = _ssim_cs(x, y, data_range)
    return s.mean(1)


def ms_ssim_scales(height: int, width: int, max_scales: int = len(MS_SSIM_WEIGHTS)) -> int:
    """Number of MS-SSIM scales a ``height x width`` frame supports (0 if none).

    ``M`` scales need the shorter side to exceed ``(WIN_SIZE - 1) * 2^(M-1)``
    (the criterion of pytorch-msssim, 160 px for 5 scales). One scale is plain
    SSIM and needs a side of at least 11.
    """
    side = min(height, width)
    if side < WIN_SIZE:
        return 0
    m = 1
    while m < max_scales and side > (WIN_SIZE - 1) * 2**m:
        m += 1
    return m


def ms_ssim(
    x: Tensor,
    y: Tensor,
    data_range: float = 1.0,
    weights: Sequence[float] = MS_SSIM_WEIGHTS,
    *,
    small: Literal["fewer_scales", "error"] = "fewer_scales",
    return_scales: bool = False,
) -> Tensor | tuple[Tensor, int]:
    """Per-frame MS-SSIM of frames ``(N, C, H, W)`` (Wang et al. 2003).

    Args:
        x, y: frames in ``[0, data_range]``.
        data_range: peak value.
        weights: per-scale exponents, finest first; ``len(weights)`` is the number of
            scales asked for.
        small: what to do when the frames are too small for ``len(weights)`` scales
            (see the module docstring): ``"fewer_scales"`` (default) drops the
            coarsest scales and renormalizes the remaining weights; ``"error"``
            raises :class:`~vid1d.errors.InputError`.
        return_scales: also return the number of scales actually used.

    Returns:
        ``(N,)`` scores in [0, 1], or ``((N,), n_scales)`` with ``return_scales``.
    """
    x, y = check_pair(x, y, "ms_ssim", min_side=WIN_SIZE)
    data_range = check_data_range(data_range, "ms_ssim")
    w = torch.as_tensor([float(v) for v in weights], dtype=x.dtype)
    if w.numel() == 0 or bool((w < 0).any()) or float(w.sum()) <= 0:
        raise InputError(f"ms_ssim: weights must be non-negative with a positive sum, got {weights}")
    if small not in ("fewer_scales", "error"):
        raise InputError(f"ms_ssim: small must be 'fewer_scales' or 'error', got {small!r}")
    h, wd = x.shape[-2:]
    levels = ms_ssim_scales(h, wd, max_scales=w.numel())
    if levels < w.numel():
        if small == "error":
            raise InputError(
                f"ms_ssim: {wd}x{h} frames are too small for {w.numel()} scales (the shorter side "
                f"must exceed {(WIN_SIZE - 1) * 2 ** (w.numel() - 1)}); use small='fewer_scales'"
            )
        w = w[:levels] / w[:levels].sum()
    w = w.to(x.device)

    factors = []
    for level in range(levels):
        s, cs = _ssim_cs(x, y, data_range)  # (N, C) each
        if level < levels - 1:
            factors.append(torch.relu(cs))
            pad = [side % 2 for side in x.shape[-2:]]
            x = F.avg_pool2d(x, kernel_size=2, padding=pad)
            y = F.avg_pool2d(y, kernel_size=2, padding=pad)
    factors.append(torch.relu(s))
    stacked = torch.stack(factors)  # (M, N, C)
    score = torch.prod(stacked ** w.view(-1, 1, 1), dim=0).mean(1)  # (N,)
    return (score, levels) if return_scales else score
