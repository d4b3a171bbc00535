"""What produced each number: implementation, parameters and weights of every metric.

Every result file carries ``metric_versions(...)`` so that numbers from different
runs, machines or vid1d versions are only compared when they were measured the
same way (MS-SSIM on 4 vs 5 scales, VMAF from another libvmaf, LPIPS with other
weights are different metrics).
"""

from __future__ import annotations

from vid1d.errors import InputError
from vid1d.metrics.bd import Method
from vid1d.metrics.dists import DISTS
from vid1d.metrics.lpips import LPIPS
from vid1d.metrics.psnr import PSNR_MAX_DB
from vid1d.metrics.ssim import K1, K2, MS_SSIM_WEIGHTS, WIN_SIGMA, WIN_SIZE
from vid1d.metrics.stlpips import STLPIPS
from vid1d.metrics.vmaf import VMAF_MODEL, VmafResult

_BD = {
    "pchip": "vid1d BD, PCHIP of log10 rate, exact integral over the overlap (JVET CTC)",
    "cubic": "vid1d BD, cubic polynomial fit of log10 rate (VCEG-M33)",
}


def metric_versions(
    *,
    ms_ssim_scales: int | None = None,
    vmaf: VmafResult | bool | None = None,
    lpips: LPIPS | None = None,
    dists: DISTS | None = None,
    stlpips: STLPIPS | None = None,
    bd_method: Method | None = None,
) -> dict[str, str]:
    """A ``{metric: description}`` dict for result files.

    PSNR, YUV-PSNR and SSIM are always described (they have no versions beyond
    vid1d's own). The others appear when given:

    Args:
        ms_ssim_scales: scales MS-SSIM used (``ms_ssim(..., return_scales=True)``);
            ``None`` describes the policy instead of a number.
        vmaf: a :class:`VmafResult` (records its ffmpeg and libvmaf versions), or
            ``True`` to describe the ffmpeg binary vid1d would use.
        lpips, dists, stlpips: the loaded modules (their backbone and weights hash).
        bd_method: the BD interpolation used.
    """
    from vid1d import __version__

    window = f"gaussian {WIN_SIZE}/{WIN_SIGMA}, K=({K1}, {K2}), valid"
    out = {
        "vid1d": __version__,
        "psnr": f"vid1d (RGB, MSE over all 3 channels per frame, capped at {PSNR_MAX_DB:g} dB)",
        "psnr_yuv": f"vid1d (per plane, yuv=(6y+u+v)/8, capped at {PSNR_MAX_DB:g} dB)",
        "ssim": f"vid1d (Wang 2004, {window}, mean over RGB channels)",
    }
    if ms_ssim_scales is None:
        scales = (f"{len(MS_SSIM_WEIGHTS)} scales, fewer with renormalized weights "
                  "for frames with shorter side <= 160")
    elif ms_ssim_scales == len(MS_SSIM_WEIGHTS):
        scales = f"{ms_ssim_scales} scales"
    else:
        scales = f"{ms_ssim_scales} scales, renormalized weights"
    out["ms_ssim"] = f"vid1d (Wang 2003, {scales}, {window}, relu'd cs)"
    if isinstance(vmaf, VmafResult):
        out["vmaf"] = vmaf.version_string
    elif vmaf:
        from vid1d.utils.ffmpeg import ffmpeg_version

        out["vmaf"] = f"libvmaf {VMAF_MODEL} via ffmpeg {ffmpeg_version()}"
    if lpips is not None:
        out["lpips"] = lpips.version
    if dists is not None:
        out["dists"] = dists.version
    if stlpips is not None:
        out["stlpips"] = stlpips.version
    if bd_method is not None:
        if bd_method not in _BD:
            raise InputError(f"unknown BD method {bd_method!r} (use 'pchip' or 'cubic')")
        out["bd"] = _BD[bd_method]
    return out
