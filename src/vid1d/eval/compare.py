"""Full-reference comparison of two whole videos, streamed chunk by chunk.

:func:`compare_videos` reads the reference and the distorted video in lockstep,
a few frames at a time (memory is bounded by one chunk of each, whatever the
length), and returns per-frame values and means of:

============  ==============================================================
``psnr``      RGB PSNR (MSE over the 3 channels) -> key ``psnr_rgb``
``psnr_yuv``  PSNR of each Y'CbCr plane and the JVET 6:1:1 average ->
              ``psnr_y``, ``psnr_u``, ``psnr_v``, ``psnr_yuv``
``ssim``      SSIM on RGB (not in the default set)
``ms_ssim``   MS-SSIM on RGB (fewer scales for frames <= 160 px, recorded)
``vmaf``      libvmaf vmaf_v0.6.1, run by ffmpeg on the two files directly
``stlpips``   ST-LPIPS (alex) on RGB, lower is better (not in the default set;
              weights from ``vid1d weights fetch stlpips-alex`` or
              ``$VID1D_STLPIPS_WEIGHTS``, loaded before any frame is read)
============  ==============================================================

Means are arithmetic means of the per-frame values (the JVET convention for PSNR).

When both videos are stored as Y'CbCr (the usual case) they are read once, as
planes: YUV metrics use the samples as stored (so both videos must share the
planar format), and RGB is computed from the planes with :func:`vid1d.io.planes_to_rgb`
using one conversion for both videos -- the reference's matrix and range (BT.601
for untagged PyAV streams, as libswscale assumes) unless ``matrix`` is given -- so
identical planes always give identical RGB. When either video is RGB (PNG frames,
RGB-coded streams), RGB comes from each reader as is.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import torch

from vid1d.errors import InputError
from vid1d.io import PLANAR_FORMATS, open_video, planes_to_rgb
from vid1d.metrics import (
    STLPIPS,
    clip_to_frames,
    metric_versions,
    ms_ssim,
    psnr,
    psnr_yuv,
    resolve_weights,
    ssim,
    vmaf,
)
from vid1d.utils.device import check_device

METRICS: tuple[str, ...] = ("psnr", "psnr_yuv", "ssim", "ms_ssim", "vmaf", "stlpips")
DEFAULT_METRICS: tuple[str, ...] = ("psnr", "psnr_yuv", "ms_ssim", "vmaf")
# Result keys each requested metric produces.
KEYS: dict[str, tuple[str, ...]] = {
    "psnr": ("psnr_rgb",),
    "psnr_yuv": ("psnr_y", "psnr_u", "psnr_v", "psnr_yuv"),
    "ssim": ("ssim",),
    "ms_ssim": ("ms_ssim",),
    "vmaf": ("vmaf",),
    "stlpips": ("stlpips",),
}
RGB_METRICS: tuple[str, ...] = ("psnr", "ssim", "ms_ssim", "stlpips")
_PERCEPTUAL_PIXELS = 2**21  # frames of one ST-LPIPS batch: at most this many pixels (both videos)
_CHUNK_BYTES = 64 * 2**20  # one float32 RGB chunk of each video stays under this


def chunk_frames_for(width: int, height: int, max_chunk: int = 16) -> int:
    """Frames per chunk so that a (3, T, H, W) float32 chunk stays near 64 MiB."""
    return max(1, min(max_chunk, _CHUNK_BYTES // (3 * 4 * width * height)))


def check_metrics(metrics: Iterable[str]) -> tuple[str, ...]:
    """The requested metric names, de-duplicated; InputError for unknown ones."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(dict.fromkeys(metrics))
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise InputError(
            f"unknown metric(s) {', '.join(unknown)} (choose from {', '.join(METRICS)})"
        )
    if not metrics:
        raise InputError("no metrics requested")
    return metrics


def rgb_conversion(reader) -> tuple[str, bool]:
    """(matrix, full_range) with which ``reader`` turns Y'CbCr into RGB.

    Y4M/YUV readers say so themselves. PyAV readers let libswscale follow the
    stream's tags (untagged = BT.601 limited range, see :mod:`vid1d.io.pyav`), so
    the tags are read here.
    """
    if reader.info.container in ("y4m", "yuv", "png"):
        return reader.matrix, reader.full_range
    import av

    try:
        with av.open(reader.info.path) as c:
            cc = c.streams.video[0].codec_context
            colorspace, color_range = int(cc.colorspace), int(cc.color_range)
    except (av.error.FFmpegError, OSError, IndexError):
        return reader.matrix, reader.full_range
    # AVColorSpace 1 = BT.709; anything else libswscale converts as BT.601. AVCOL_RANGE_JPEG = 2.
    return ("bt709" if colorspace == 1 else "bt601"), color_range == 2


class _Lockstep:
    """Pairs of equally long chunks from two chunk streams, up to the shorter one's end.

    With ``exact``, streams of different lengths are an InputError (raised when the
    shorter one ends, after counting the rest of the longer one for the message).
    :attr:`frames` counts the frames paired so far.
    """

    def __init__(self, ref: Iterator, dist: Iterator, exact: bool) -> None:
        self.ref, self.dist, self.exact = ref, dist, exact
        self.frames = 0

    def __iter__(self) -> Iterator[tuple]:
        a = b = None
        while True:
            a = next(self.ref, None) if a is None else a
            b = next(self.dist, None) if b is None else b
            if a is None or b is None:
                if self.exact and (a is not None or b is not None):
                    longer, rest = (self.ref, a) if a is not None else (self.dist, b)
                    extra = _frames(rest) + sum(_frames(c) for c in longer)
                    n_ref = self.frames + (extra if a is not None else 0)
                    n_dist = self.frames + (extra if b is not None else 0)
                    raise InputError(
                        f"frame counts differ: reference has {n_ref} frames, "
                        f"distorted {n_dist} (compare a prefix with max_frames, or --frames)"
                    )
                return
            n = min(_frames(a), _frames(b))
            yield _slice(a, 0, n), _slice(b, 0, n)
            self.frames += n
            a = _slice(a, n, None) if _frames(a) > n else None
            b = _slice(b, n, None) if _frames(b) > n else None


def _to_rgb(planes, fmt, conversion: tuple[str, bool]) -> torch.Tensor:
    matrix, full_range = conversion
    return planes_to_rgb(
        *planes, chroma=fmt.chroma, matrix=matrix, full_range=full_range, bit_depth=fmt.bit_depth
    )


@functools.lru_cache(maxsize=2)
def _stlpips(path: str, mtime: float, device: str) -> STLPIPS:
    return STLPIPS.from_file(path).to(device)


def load_stlpips_metric(device: str | torch.device = "cpu") -> STLPIPS:
    """The ST-LPIPS module compare_videos uses (loaded once per weight file and device)."""
    path = resolve_weights(None, "stlpips")
    return _stlpips(str(path), path.stat().st_mtime, str(device))


def _rgb_metrics(x: torch.Tensor, y: torch.Tensor, names: list[str], out: dict,
                 stlpips: STLPIPS | None = None) -> int | None:
    """Append per-frame RGB metrics of frames (T, 3, H, W); returns MS-SSIM's scale count."""
    scales = None
    if "psnr" in names:
        out["psnr_rgb"] += psnr(x, y).tolist()
    if "ssim" in names:
        out["ssim"] += ssim(x, y).tolist()
    if "ms_ssim" in names:
        score, scales = ms_ssim(x, y, return_scales=True)
        out["ms_ssim"] += score.tolist()
    if stlpips is not None:
        step = max(1, _PERCEPTUAL_PIXELS // (2 * x.shape[-1] * x.shape[-2]))
        with torch.no_grad():
            for i in range(0, x.shape[0], step):
                out["stlpips"] += stlpips(x[i:i + step], y[i:i + step]).tolist()
    return scales


def _yuv_metrics(a: tuple, b: tuple, out: dict) -> None:
    res = psnr_yuv(a, b)
    for k in ("y", "u", "v", "yuv"):
        out[f"psnr_{k}"] += res[k].tolist()


def _is_raw(info) -> bool:
    return info.container == "yuv"


def _frames(chunk) -> int:
    # RGB chunk (3, T, H, W) or YUV planes (Y (T, H, W), U, V)
    return chunk.shape[1] if isinstance(chunk, torch.Tensor) else chunk[0].shape[0]


def _slice(chunk, start: int, stop: int | None):
    if isinstance(chunk, torch.Tensor):
        return chunk[:, start:stop]
    return tuple(p[start:stop] for p in chunk)


def compare_videos(
    ref: str | Path,
    dist: str | Path,
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    max_frames: int | None = None,
    size: tuple[int, int] | None = None,
    pix_fmt: str | None = None,
    fps: float | None = None,
    matrix: str | None = None,
    full_range: bool | None = None,
    device: str | torch.device = "cpu",
) -> dict:
    """Compare ``dist`` against ``ref`` frame by frame.

    Args:
        ref, dist: any videos :func:`vid1d.io.open_video` reads (raw ``.yuv`` needs
            ``size`` and ``pix_fmt``, which then apply to both).
        metrics: subset of :data:`METRICS`.
        max_frames: compare only the first ``min(max_frames, N_ref, N_dist)`` frames.
            Without it the two videos must have the same number of frames.
        matrix, full_range: Y'CbCr -> RGB conversion for the RGB metrics, applied to
            both videos. Default: the reference's own (:func:`rgb_conversion`).
        device: where the frame metrics run (``"cuda"`` is much faster for MS-SSIM).

    Returns:
        ``{"reference", "distorted", "frames", "width", "height", "mean": {key: float},
        "per_frame": {key: [float, ...]}, "rgb_conversion": {"matrix", "full_range"},
        "metric_versions": {...}}`` with the keys of
        :data:`KEYS` for each requested metric.

    Raises:
        InputError: unreadable input, different frame sizes, different frame
            counts (without ``max_frames``), YUV metrics on different planar formats,
            a device this machine lacks.
    """
    metrics = check_metrics(metrics)
    check_device(device)
    if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 1):
        raise InputError(f"max_frames must be a positive integer, got {max_frames!r}")
    ref, dist = Path(ref), Path(dist)
    per_frame: dict[str, list[float]] = {k: [] for m in metrics for k in KEYS[m]}
    exact = max_frames is None
    scales: int | None = None
    # loaded before any frame is read, so that missing weights fail first
    stlpips = load_stlpips_metric(device) if "stlpips" in metrics else None

    kw = {"size": size, "pix_fmt": pix_fmt, "fps": fps, "matrix": matrix, "full_range": full_range}
    with open_video(ref, **kw) as r, open_video(dist, **kw) as d:
        ri, di = r.info, d.info
        if (ri.width, ri.height) != (di.width, di.height):
            raise InputError(
                f"frame sizes differ: reference {ri.width}x{ri.height}, "
                f"distorted {di.width}x{di.height}"
            )
        if exact and None not in (ri.num_frames, di.num_frames) and ri.num_frames != di.num_frames:
            raise InputError(
                f"frame counts differ: reference has {ri.num_frames} frames, "
                f"distorted {di.num_frames} (compare a prefix with max_frames, or --frames)"
            )
        if "psnr_yuv" in metrics and (ri.pix_fmt, ri.bit_depth) != (di.pix_fmt, di.bit_depth):
            raise InputError(
                f"psnr_yuv needs the same sample format, got {ri.pix_fmt} "
                f"(reference) and {di.pix_fmt} (distorted)"
            )
        conversion = (matrix, bool(full_range)) if matrix is not None else rgb_conversion(r)
        chunk = chunk_frames_for(ri.width, ri.height)
        rgb_metrics = [m for m in metrics if m in RGB_METRICS]
        n_frames = None
        if not rgb_metrics and "psnr_yuv" not in metrics:
            pass  # VMAF only: nothing to read here
        elif ri.pix_fmt in PLANAR_FORMATS and di.pix_fmt in PLANAR_FORMATS:
            # One pass over the Y'CbCr planes; RGB from them with ONE conversion for both
            # videos, so identical planes give identical RGB whatever the containers say.
            pairs = _Lockstep(
                r.yuv_chunks(chunk, max_frames), d.yuv_chunks(chunk, max_frames), exact
            )
            for a, b in pairs:
                a = tuple(p.to(device) for p in a)
                b = tuple(p.to(device) for p in b)
                if "psnr_yuv" in metrics:
                    _yuv_metrics(a, b, per_frame)
                if rgb_metrics:
                    x = clip_to_frames(_to_rgb(a, r.yuv_format, conversion))  # (T, 3, H, W)
                    y = clip_to_frames(_to_rgb(b, d.yuv_format, conversion))
                    scales = _rgb_metrics(x, y, rgb_metrics, per_frame, stlpips)
            n_frames = pairs.frames
        else:
            # An RGB source (PNG frames, RGB-coded video): RGB as each reader gives it.
            if rgb_metrics:
                pairs = _Lockstep(r.chunks(chunk, max_frames), d.chunks(chunk, max_frames), exact)
                for a, b in pairs:
                    x, y = clip_to_frames(a).to(device), clip_to_frames(b).to(device)
                    scales = _rgb_metrics(x, y, rgb_metrics, per_frame, stlpips)
                n_frames = pairs.frames
            if "psnr_yuv" in metrics:
                pairs = _Lockstep(
                    r.yuv_chunks(chunk, max_frames), d.yuv_chunks(chunk, max_frames), exact
                )
                for a, b in pairs:
                    a = tuple(p.to(device) for p in a)
                    _yuv_metrics(a, tuple(p.to(device) for p in b), per_frame)
                n_frames = pairs.frames

    # ffmpeg needs the layout of raw inputs spelled out, even where vid1d.io read it
    # from the file name; sizes are equal (checked above).
    raw = ri if _is_raw(ri) else di
    vm_kw = {"size": (ri.width, ri.height), "pix_fmt": pix_fmt or raw.pix_fmt, "fps": fps}
    if n_frames is None:  # VMAF only: vmaf() checks the counts itself
        vm = vmaf(ref, dist, max_frames=max_frames, **vm_kw)
        n_frames = len(vm.per_frame)
    elif "vmaf" in metrics:
        if n_frames == 0:
            raise InputError(f"{ref}: no frames to compare")
        vm = vmaf(ref, dist, max_frames=n_frames, **vm_kw)
    else:
        vm = None
    if n_frames == 0:
        raise InputError(f"{ref}: no frames to compare")
    if vm is not None:
        per_frame["vmaf"] = [float(v) for v in vm.per_frame]

    mean = {k: (sum(v) / len(v) if v else None) for k, v in per_frame.items()}
    return {
        "reference": str(ref),
        "distorted": str(dist),
        "frames": n_frames,
        "width": ri.width,
        "height": ri.height,
        "mean": mean,
        "per_frame": per_frame,
        "rgb_conversion": {"matrix": conversion[0], "full_range": conversion[1]},
        "metric_versions": metric_versions(ms_ssim_scales=scales, vmaf=vm, stlpips=stlpips),
    }
