"""Video quality metrics and rate-distortion summaries.

- :func:`psnr`, :func:`psnr_yuv`, :func:`mse` -- per-frame PSNR (RGB; YUV 6:1:1)
- :func:`ssim`, :func:`ms_ssim` -- Wang et al. 2004 / 2003, per frame
- :func:`vmaf` -- libvmaf vmaf_v0.6.1 through the imageio-ffmpeg binary
- :class:`LPIPS`, :class:`DISTS` -- perceptual distances, weights from a local file
  (:func:`convert_weights` builds it from the official checkpoints)
- :class:`STLPIPS` -- shift-tolerant LPIPS (Ghildyal & Liu 2022), whose official
  weights ``vid1d weights fetch stlpips-alex`` gets from PyPI (:func:`convert_stlpips`)
- :func:`bd_rate`, :func:`bd_quality` -- Bjøntegaard deltas (PCHIP / cubic)
- :func:`metric_versions` -- what to record next to every number

Frame metrics take ``(N, C, H, W)`` float tensors in ``[0, data_range]`` on any
device and return ``(N,)``; clips ``(C, T, H, W)`` go through
:func:`clip_to_frames` first.
"""

from torch import nn

from vid1d.metrics._checks import clip_to_frames
from vid1d.metrics.bd import bd_psnr, bd_quality, bd_rate
from vid1d.metrics.convert import convert_stlpips, convert_weights, save_metric_weights
from vid1d.metrics.dists import DISTS, load_dists
from vid1d.metrics.lpips import LPIPS, load_lpips
from vid1d.metrics.psnr import PSNR_MAX_DB, mse, psnr, psnr_yuv
from vid1d.metrics.ssim import MS_SSIM_WEIGHTS, ms_ssim, ms_ssim_scales, ssim
from vid1d.metrics.stlpips import STLPIPS, load_stlpips
from vid1d.metrics.versions import metric_versions
from vid1d.metrics.vmaf import VMAF_MODEL, VmafResult, vmaf
from vid1d.metrics.weights import resolve_weights

PERCEPTUAL_LOADERS = {"lpips": load_lpips, "dists": load_dists, "stlpips": load_stlpips}


def perceptual_net(owner: nn.Module, name: str) -> nn.Module:
    """The frozen perceptual network ``name`` (``"lpips"``, ``"dists"``, ``"stlpips"``) that a
    model's loss uses: loaded from its weight file onto ``owner``'s device the first time,
    then cached on ``owner`` outside its parameters and state dict (never saved with it).
    A missing weight file raises :class:`vid1d.errors.InputError` saying how to get it."""
    nets = owner.__dict__.setdefault("_perceptual_nets", {})
    if name not in nets:
        device = next(owner.parameters()).device
        nets[name] = PERCEPTUAL_LOADERS[name](device=device).eval().requires_grad_(False)
    return nets[name]


__all__ = [
    "DISTS",
    "LPIPS",
    "MS_SSIM_WEIGHTS",
    "PERCEPTUAL_LOADERS",
    "STLPIPS",
    "PSNR_MAX_DB",
    "VMAF_MODEL",
    "VmafResult",
    "bd_psnr",
    "bd_quality",
    "bd_rate",
    "clip_to_frames",
    "convert_stlpips",
    "convert_weights",
    "load_dists",
    "load_lpips",
    "load_stlpips",
    "metric_versions",
    "ms_ssim",
    "ms_ssim_scales",
    "mse",
    "perceptual_net",
    "psnr",
    "psnr_yuv",
    "resolve_weights",
    "save_metric_weights",
    "ssim",
    "vmaf",
]
