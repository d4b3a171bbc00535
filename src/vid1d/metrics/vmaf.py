"""VMAF through libvmaf in the imageio-ffmpeg binary (built-in model ``vmaf_v0.6.1``).

One ffmpeg run per call::

    dist --trim--settb=1/100,setpts=N--\\
                                        libvmaf (main = distorted, reference = #1) -> null
    ref  --trim--settb=1/100,setpts=N--/        \\-> JSON log: per-frame scores + features

Details that matter for correct numbers:

- **Input order.** Since FFmpeg 5 (libvmaf 2.x API) the filter's first input is
  the *main* (distorted) stream and the second the *reference*
  (``ffmpeg -h filter=libvmaf``). VMAF is not symmetric (for example the motion
  feature is computed on the reference only), so swapping them gives different,
  wrong numbers. :func:`vmaf` takes ``(ref_path, dist_path)`` like every other
  vid1d metric and wires them the right way round.
- **Frame alignment.** libvmaf pairs frames by timestamp. Re-stamping both streams
  as 0, 1, 2, ... (``settb=1/100,setpts=N``) pairs frame *i* with frame *i*
  whatever the containers' time bases, frame rates or start times.
- **Equal frame counts.** ffmpeg's frame sync would silently repeat the last frame
  of a shorter stream; we count the frames of both inputs first (demuxing only)
  and refuse a mismatch. ``max_frames`` scores the first N frames of each.
- **Equal sizes.** Different sizes are an error, never an implicit rescale.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from vid1d.errors import ExternalToolError, InputError
from vid1d.utils.ffmpeg import ffmpeg_version, run_ffmpeg

VMAF_MODEL = "vmaf_v0.6.1"
RAW_SUFFIXES = (".yuv", ".raw", ".rgb")


@dataclass(frozen=True)
class VmafResult:
    """VMAF of a distorted video against its reference.

    Attributes:
        mean: arithmetic mean of ``per_frame`` (libvmaf's default pooling).
        per_frame: the VMAF score of every frame, in display order.
        model: the libvmaf model (``"vmaf_v0.6.1"``).
        ffmpeg_version: version string of the ffmpeg binary that ran libvmaf.
        libvmaf_version: libvmaf's own version (from its log).
        features: every per-frame feature in libvmaf's log (``integer_vif_scale0``,
            ``integer_motion2``, ...), for diagnostics.
    """

    mean: float
    per_frame: list[float]
    model: str
    ffmpeg_version: str
    libvmaf_version: str = ""
    features: dict[str, list[float]] = field(default_factory=dict, repr=False)

    @property
    def version_string(self) -> str:
        """E.g. ``"libvmaf 86da14d vmaf_v0.6.1 via ffmpeg n9.0.2-..."``."""
        lib = f"libvmaf {self.libvmaf_version} " if self.libvmaf_version else "libvmaf "
        return f"{lib}{self.model} via ffmpeg {self.ffmpeg_version}"


@dataclass(frozen=True)
class _Probe:
    width: int
    height: int
    frames: int


def _raw_options(path: Path, size: tuple[int, int] | None, pix_fmt: str | None,
                 fps: float | None) -> list[str] | None:
    """ffmpeg input options for a raw file (``None`` for a self-describing container)."""
    if path.suffix.lower() not in RAW_SUFFIXES:
        return None
    if size is None:
        raise InputError(
            f"{path}: raw video needs its frame size: pass size=(width, height) "
            "(and pix_fmt, default yuv420p)"
        )
    w, h = size
    opts = ["-f", "rawvideo", "-pix_fmt", pix_fmt or "yuv420p", "-s", f"{w}x{h}"]
    if fps is not None:
        opts += ["-framerate", f"{fps}"]
    return opts


def _probe(path: Path, raw: list[str] | None) -> _Probe:
    """Frame size and frame count of the first video stream (demux only, no decoding)."""
    import av

    options: dict[str, str] = {}
    fmt = None
    if raw is not None:
        fmt = "rawvideo"
        opts = dict(zip(raw[0::2], raw[1::2], strict=True))
        options = {"video_size": opts["-s"], "pixel_format": opts["-pix_fmt"]}
    try:
        with av.open(str(path), format=fmt, options=options) as container:
            if not container.streams.video:
                raise InputError(f"{path}: no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            sizes = [p.size for p in container.demux(stream) if p.size]
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError) as e:
        hint = " -- check size and pix_fmt" if raw is not None else ""
        raise InputError(f"{path}: cannot read video ({e}){hint}") from e
    if raw is not None and sizes and sizes[-1] != sizes[0]:
        raise InputError(
            f"{path}: file size is not a whole number of {opts['-s']} {opts['-pix_fmt']} "
            "frames (wrong size/pix_fmt, or a truncated file)"
        )
    if not sizes:
        raise InputError(f"{path}: video has no frames")
    return _Probe(width, height, len(sizes))


def _escape_filter_value(value: str) -> str:
    """Escape a filter option value for an ffmpeg filtergraph (two quoting levels)."""
    for ch in "\\':":
        value = value.replace(ch, "\\" + ch)
    for ch in "\\'[],;":
        value = value.replace(ch, "\\" + ch)
    return value


def vmaf(
    ref_path: str | Path,
    dist_path: str | Path,
    *,
    size: tuple[int, int] | None = None,
    pix_fmt: str | None = None,
    fps: float | None = None,
    max_frames: int | None = None,
    threads: int = 2,
) -> VmafResult:
    """VMAF (model vmaf_v0.6.1) of ``dist_path`` against ``ref_path``.

    Args:
        ref_path, dist_path: any video ffmpeg reads (mp4, mkv, y4m, ...), or raw
            planar files (``.yuv``/``.raw``/``.rgb``), which need ``size``.
        size: ``(width, height)`` of raw inputs (applies to every raw input).
        pix_fmt: pixel format of raw inputs (ffmpeg name; default ``yuv420p``).
        fps: frame rate of raw inputs (informational: frames are paired by index).
        max_frames: score only the first N frames of each input.
        threads: libvmaf worker threads.

    Raises:
        InputError: missing/unreadable input, raw input without size, different
            frame sizes or frame counts.
        ExternalToolError: ffmpeg/libvmaf failed.
    """
    ref_path, dist_path = Path(ref_path), Path(dist_path)
    for p in (ref_path, dist_path):
        if not p.is_file():
            raise InputError(f"vmaf: no such file: {p}")
    if max_frames is not None and max_frames < 1:
        raise InputError(f"vmaf: max_frames must be >= 1, got {max_frames}")
    if threads < 1:
        raise InputError(f"vmaf: threads must be >= 1, got {threads}")
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise InputError(f"vmaf: size must be (width, height), got {size}")

    raw_ref = _raw_options(ref_path, size, pix_fmt, fps)
    raw_dist = _raw_options(dist_path, size, pix_fmt, fps)
    pr, pd = _probe(ref_path, raw_ref), _probe(dist_path, raw_dist)
    if (pr.width, pr.height) != (pd.width, pd.height):
        raise InputError(
            f"vmaf: frame sizes differ: reference {pr.width}x{pr.height}, "
            f"distorted {pd.width}x{pd.height}"
        )
    n_ref, n_dist = pr.frames, pd.frames
    if max_frames is not None:
        n_ref, n_dist = min(n_ref, max_frames), min(n_dist, max_frames)
    if n_ref != n_dist:
        raise InputError(
            f"vmaf: frame counts differ: reference {pr.frames}, distorted {pd.frames}"
            + ("" if max_frames is None else f" (max_frames={max_frames})")
        )

    tmp = Path(tempfile.mkdtemp(prefix="vid1d-vmaf-"))
    try:
        log = tmp / "vmaf.json"
        align = f"trim=end_frame={n_ref},settb=1/100,setpts=N"
        graph = (
            f"[0:v]{align}[dist];[1:v]{align}[ref];"
            f"[dist][ref]libvmaf=model=version={VMAF_MODEL}:log_fmt=json"
            f":log_path={_escape_filter_value(str(log))}:n_threads={threads}[out]"
        )
        args = [*(raw_dist or []), "-i", str(dist_path.resolve()),
                *(raw_ref or []), "-i", str(ref_path.resolve()),
                "-filter_complex", graph, "-map", "[out]", "-f", "null", "-"]
        run_ffmpeg(args, desc="vmaf")
        try:
            data = json.loads(log.read_text())
        except (OSError, ValueError) as e:
            raise ExternalToolError(f"vmaf: libvmaf wrote no readable log ({e})") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _parse_log(data, expected_frames=n_ref)


def _parse_log(data: dict, expected_frames: int) -> VmafResult:
    frames = sorted(data.get("frames", []), key=lambda f: f["frameNum"])
    if len(frames) != expected_frames:
        raise ExternalToolError(
            f"vmaf: libvmaf scored {len(frames)} frames, expected {expected_frames}"
        )
    features: dict[str, list[float]] = {}
    for f in frames:
        for k, v in f["metrics"].items():
            features.setdefault(k, []).append(float(v))
    per_frame = features.get("vmaf", [])
    if len(per_frame) != expected_frames or not all(math.isfinite(v) for v in per_frame):
        raise ExternalToolError("vmaf: libvmaf log has missing or non-finite VMAF scores")
    return VmafResult(
        mean=sum(per_frame) / len(per_frame),
        per_frame=per_frame,
        model=VMAF_MODEL,
        ffmpeg_version=ffmpeg_version(),
        libvmaf_version=str(data.get("version", "")),
        features=features,
    )
