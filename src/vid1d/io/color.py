"""Colour: R'G'B' <-> Y'CbCr (BT.709 / BT.601, limited or full range), 4:2:0 resampling.

Conventions (stated once, used everywhere in vid1d):

* Tensors hold *normalized code values*: an n-bit sample D is stored as
  D / (2^n - 1). So limited-range 8-bit white is Y' = 235/255 and 10-bit
  limited black is 64/1023.
* Y'CbCr from gamma-encoded R'G'B' in [0, 1] (ITU-R BT.709-6 §3, BT.601-7 §2.5):
  ``Y' = Kr R' + Kg G' + Kb B'``, ``Pb = (B' - Y') / (2 (1 - Kb))``,
  ``Pr = (R' - Y') / (2 (1 - Kr))`` with (Kr, Kb) = (0.2126, 0.0722) for BT.709 and
  (0.299, 0.114) for BT.601 (and (0.2627, 0.0593) for BT.2020 non-constant luminance).
* Limited ("tv", "mpeg") range, n bits: ``D_Y = (219 Y' + 16) 2^(n-8)``,
  ``D_C = (224 P + 128) 2^(n-8)`` (BT.709-6 §4.6).
  Full ("pc", "jpeg") range: ``D_Y = (2^n - 1) Y'``, ``D_C = (2^n - 1) P + 2^(n-1)``
  (JFIF for BT.601, BT.2100 full range).
* 4:2:0 down-sampling is a 2x2 box average, so chroma is **centre-sited**
  (JPEG / MPEG-1 siting; Y4M ``C420jpeg``). Up-sampling is **nearest** by default:
  that is what ffmpeg/libswscale does when it converts yuv420p to rgb24 without
  scaling (measured: our nearest + BT.601 matches ``ffmpeg -pix_fmt rgb24`` within
  3 code values, bilinear does not); ``mode="bilinear"`` is the centre-sited
  bilinear interpolation for users who prefer it.
* Quantization to integer samples (:func:`quantize`): clamp to [0, 1], scale by
  2^n - 1, ``torch.round`` (round half to even; ties are rare for float inputs).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from vid1d.errors import InputError

# (Kr, Kb) luma coefficients (BT.2020: non-constant luminance, ITU-R BT.2020-2 Table 4).
_MATRICES = {"bt709": (0.2126, 0.0722), "bt601": (0.299, 0.114), "bt2020": (0.2627, 0.0593)}
_ALIASES = {
    "bt709": "bt709", "bt.709": "bt709", "709": "bt709", "rec709": "bt709",
    "bt601": "bt601", "bt.601": "bt601", "601": "bt601", "rec601": "bt601",
    "smpte170m": "bt601", "bt470bg": "bt601",
    "bt2020": "bt2020", "bt.2020": "bt2020", "2020": "bt2020", "bt2020nc": "bt2020",
}


def matrix_name(matrix: str) -> str:
    """Canonical matrix name ("bt709", "bt601" or "bt2020") for a user spelling."""
    try:
        return _ALIASES[matrix.lower()]
    except (KeyError, AttributeError):
        raise InputError(f"unknown colour matrix {matrix!r} (use 'bt709', 'bt601' or 'bt2020')"
                         ) from None


def _coefficients(matrix: str, full_range: bool, bit_depth: int, dtype, device):
    """A (3, 3) matrix M and offset o with ycbcr = M @ rgb + o, in normalized code values."""
    kr, kb = _MATRICES[matrix_name(matrix)]
    kg = 1.0 - kr - kb
    to_ypbpr = torch.tensor(
        [
            [kr, kg, kb],
            [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5],
            [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))],
        ],
        dtype=torch.float64,
    )
    maxv = float((1 << bit_depth) - 1)
    if full_range:
        scale = torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64)
        offset = torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64) * (1 << (bit_depth - 1)) / maxv
    else:
        step = float(1 << (bit_depth - 8)) / maxv
        scale = torch.tensor([219.0, 224.0, 224.0], dtype=torch.float64) * step
        offset = torch.tensor([16.0, 128.0, 128.0], dtype=torch.float64) * step
    m = scale[:, None] * to_ypbpr
    return m.to(dtype=dtype, device=device), offset.to(dtype=dtype, device=device)


def _check_channels(x: torch.Tensor, dim: int) -> None:
    if x.ndim == 0 or x.shape[dim] != 3:
        raise InputError(f"expected 3 channels at dim {dim}, got shape {tuple(x.shape)}")


def _float(x: torch.Tensor) -> torch.Tensor:
    return x if x.is_floating_point() else x.float()


def rgb_to_ycbcr(x: torch.Tensor, matrix: str = "bt709", full_range: bool = False, *,
                 bit_depth: int = 8, dim: int = -3) -> torch.Tensor:
    """R'G'B' in [0, 1] -> Y'CbCr normalized code values (see module docstring).

    ``x`` has its 3 channels at ``dim`` (``-3`` for ``(..., 3, H, W)``; pass ``dim=0``
    for a clip ``(3, T, H, W)``). No clamping: full-range Cr of pure red is 255.5/255.
    """
    _check_channels(x, dim)
    x = _float(x)
    m, o = _coefficients(matrix, full_range, bit_depth, x.dtype, x.device)
    return _affine(x, m, o, dim)


def ycbcr_to_rgb(x: torch.Tensor, matrix: str = "bt709", full_range: bool = False, *,
                 bit_depth: int = 8, dim: int = -3, clamp: bool = True) -> torch.Tensor:
    """Inverse of :func:`rgb_to_ycbcr`; clamps to [0, 1] unless ``clamp=False``."""
    _check_channels(x, dim)
    x = _float(x)
    m, o = _inverse_coefficients(matrix, full_range, bit_depth, x.dtype, x.device)
    y = _affine(x, m, o, dim)
    return y.clamp_(0.0, 1.0) if clamp else y


def _inverse_coefficients(matrix: str, full_range: bool, bit_depth: int, dtype, device):
    """(M^-1, -M^-1 o): rgb = M^-1 ycbcr - M^-1 o, computed in float64."""
    m, o = _coefficients(matrix, full_range, bit_depth, torch.float64, "cpu")
    inv = torch.linalg.inv(m)
    return inv.to(dtype=dtype, device=device), (-inv @ o).to(dtype=dtype, device=device)


def _affine(x: torch.Tensor, m: torch.Tensor, o: torch.Tensor, dim: int) -> torch.Tensor:
    """``m @ x + o`` over the channel dim as one matrix multiply (3x3 by 3xN)."""
    xt = torch.movedim(x, dim, 0)
    y = torch.addmm(o[:, None], m, xt.reshape(3, -1)).reshape(xt.shape)
    return torch.movedim(y, 0, dim).contiguous()


def _as_images(c: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """(..., H, W) -> (N, 1, H, W) plus the leading shape to restore."""
    if c.ndim < 2:
        raise InputError(f"expected a (..., H, W) tensor, got shape {tuple(c.shape)}")
    lead = tuple(c.shape[:-2])
    return c.reshape(-1, 1, *c.shape[-2:]), lead


def downsample_420(c: torch.Tensor) -> torch.Tensor:
    """Chroma (..., H, W) -> (..., ceil(H/2), ceil(W/2)) by 2x2 box average (centre-sited).

    An odd last row/column is replicated before averaging.
    """
    c = _float(c)
    imgs, lead = _as_images(c)
    h, w = imgs.shape[-2:]
    if h % 2 or w % 2:
        imgs = F.pad(imgs, (0, w % 2, 0, h % 2), mode="replicate")
    out = F.avg_pool2d(imgs, 2)
    return out.reshape(*lead, *out.shape[-2:])


def upsample_420(c: torch.Tensor, size: tuple[int, int], mode: str = "nearest") -> torch.Tensor:
    """Chroma (..., h, w) -> (..., H, W) with ``size=(H, W)``, h = ceil(H/2), w = ceil(W/2).

    ``mode="nearest"`` repeats each sample 2x2 (what libswscale does for yuv420p ->
    rgb24); ``"bilinear"`` interpolates for centre-sited chroma.
    """
    H, W = size
    if c.shape[-2:] != ((H + 1) // 2, (W + 1) // 2):
        raise InputError(f"chroma plane {tuple(c.shape[-2:])} does not match a {H}x{W} 4:2:0 frame")
    c = _float(c)
    if mode == "nearest":
        out = c.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
        return out[..., :H, :W]
    if mode == "bilinear":
        imgs, lead = _as_images(c)
        out = F.interpolate(imgs, scale_factor=2, mode="bilinear", align_corners=False)
        return out[..., :H, :W].reshape(*lead, H, W)
    raise InputError(f"unknown chroma up-sampling mode {mode!r} (use 'nearest' or 'bilinear')")


def quantize(x: torch.Tensor, bit_depth: int) -> np.ndarray:
    """[0, 1] floats -> integer samples: clamp, scale by 2^n - 1, round half to even.

    Returns uint8 for 8 bits, little-endian uint16 above (the on-disk layout of
    yuv420p10le and friends). Non-finite values are an InputError, not garbage.
    """
    x = x.detach()
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        raise InputError("frame data contains NaN or infinite values")
    maxv = (1 << bit_depth) - 1
    q = _float(x).clamp(0.0, 1.0).mul_(maxv).round_()
    if bit_depth == 8:
        return q.to(torch.uint8).cpu().numpy()
    return q.to(torch.int32).cpu().numpy().astype(np.dtype("<u2"))


def planes_to_rgb(y: torch.Tensor, u: torch.Tensor, v: torch.Tensor, *, chroma: str,
                  matrix: str = "bt709", full_range: bool = False, bit_depth: int = 8,
                  upsample: str = "nearest") -> torch.Tensor:
    """Planes Y (T, H, W), Cb/Cr (T, h, w) in normalized code values -> RGB (3, T, H, W)."""
    H, W = y.shape[-2:]
    if chroma == "420":
        if upsample == "nearest" and H % 2 == 0 and W % 2 == 0 and u.shape == v.shape and \
                u.shape[-2:] == (H // 2, W // 2):
            return _planes420_to_rgb_nearest(_float(y), _float(u), _float(v), matrix,
                                             full_range, bit_depth)
        u, v = upsample_420(u, (H, W), upsample), upsample_420(v, (H, W), upsample)
    elif u.shape != y.shape or v.shape != y.shape:
        raise InputError(f"4:4:4 planes must have equal shapes, got {tuple(y.shape)}, "
                         f"{tuple(u.shape)}, {tuple(v.shape)}")
    ycc = torch.stack([y, u, v], dim=0)
    return ycbcr_to_rgb(ycc, matrix, full_range, bit_depth=bit_depth, dim=0)


def _planes420_to_rgb_nearest(y, u, v, matrix, full_range, bit_depth) -> torch.Tensor:
    """The same as up-sampling then :func:`ycbcr_to_rgb`, ~4x faster: each RGB channel is
    ``a * Y + (chroma term at half resolution)``, broadcast over 2x2 blocks in place."""
    m, o = _inverse_coefficients(matrix, full_range, bit_depth, y.dtype, y.device)
    lead, (H, W) = y.shape[:-2], y.shape[-2:]
    h, w = H // 2, W // 2
    y_blocks = y.reshape(*lead, h, 2, w, 2)
    rgb = torch.empty(3, *lead, H, W, dtype=y.dtype, device=y.device)
    for c in range(3):
        chroma_term = (u * m[c, 1] + v * m[c, 2] + o[c])[..., :, None, :, None]
        torch.add(chroma_term, y_blocks, alpha=float(m[c, 0]),
                  out=rgb[c].view(*lead, h, 2, w, 2))
    return rgb.clamp_(0.0, 1.0)


def rgb_to_planes(rgb: torch.Tensor, *, chroma: str, matrix: str = "bt709",
                  full_range: bool = False, bit_depth: int = 8) -> tuple[torch.Tensor, ...]:
    """RGB (3, T, H, W) in [0, 1] -> float planes Y (T, H, W), Cb, Cr (T, h, w)."""
    ycc = rgb_to_ycbcr(rgb, matrix, full_range, bit_depth=bit_depth, dim=0)
    y, u, v = ycc.unbind(0)
    if chroma == "420":
        u, v = downsample_420(u), downsample_420(v)
    return y, u, v


def rgb_frames_to_tensor(frames: np.ndarray, max_value: int) -> torch.Tensor:
    """(T, H, W, 3) integer RGB -> (3, T, H, W) float32 in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(frames).astype(np.float32)).div_(max_value)
    return rearrange(x, "t h w c -> c t h w").contiguous()
