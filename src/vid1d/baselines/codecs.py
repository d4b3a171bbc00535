"""Classic codecs as ffmpeg encoder settings: x264, x265, VVenC, SVT-AV1, libaom.

Each :class:`Codec` turns (preset, quality, GOP configuration) into the ffmpeg
output options of one encode. Two configurations, matching what the learned codecs
are evaluated with (DESIGN.md, "Evaluation protocol"):

``low-delay``
    One intra picture at the start (intra period -1), no picture reordering (no
    B-frames / no future references), no scene-cut intra pictures. An intra period
    ``N > 0`` inserts an intra picture every N frames, still without reordering
    (VVenC's low-delay mode cannot: it refuses periodic refresh).
``random-access``
    An intra (IRAP / key) picture every ``intra_period`` frames (default 32, the
    GOP 32 / intra period 32 of GIViC and the JVET RA conditions) at fixed
    positions 0, N, 2N, ..., scene cuts off, and the encoder's own hierarchical
    B / alt-ref structure in between (VVenC: GOPSize 32 when N is a multiple of 32).

Settings that would make a rate unfair are removed: x264 writes its whole option
string as a ~700-byte SEI message and x265 a ~2 KB one (``info``); libvvenc puts an
access-unit delimiter in every picture (VVenC's own app does not). These carry no
picture data, so x264's SEI NAL units (type 6) and VVC AUDs (type 20) are dropped
with ffmpeg's ``filter_units`` bitstream filter, and x265 runs with ``info=0``.

Bitstreams are written as bare elementary streams (H.264/HEVC/VVC Annex-B byte
streams, AV1 low-overhead OBU streams), so the file size *is* the coded size: no
container bytes are counted. VVenC's perceptual QP adaptation is switched off
(``-qpa 0``) because these anchors are compared on PSNR/MS-SSIM/VMAF (the JVET
common test conditions run without it).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from vid1d.errors import ExternalToolError, InputError
from vid1d.utils.ffmpeg import ffmpeg_version, run_ffmpeg

Config = Literal["low-delay", "random-access"]
CONFIGS: tuple[str, ...] = ("low-delay", "random-access")
DEFAULT_RA_INTRA_PERIOD = 32

_X26X_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)


@dataclass(frozen=True)
class GopConfig:
    """Where intra pictures go. ``intra_period == -1``: only the first picture is intra."""

    config: Config
    intra_period: int

    @classmethod
    def make(cls, config: str = "low-delay", intra_period: int | None = None) -> GopConfig:
        if config not in CONFIGS:
            raise InputError(f"unknown configuration {config!r} (use {' or '.join(CONFIGS)})")
        if intra_period is None:
            intra_period = -1 if config == "low-delay" else DEFAULT_RA_INTRA_PERIOD
        if not isinstance(intra_period, int) or intra_period == 0 or intra_period < -1:
            raise InputError(
                f"intra period must be -1 (first frame only) or >= 1, got {intra_period!r}"
            )
        if config == "random-access" and intra_period == -1:
            raise InputError("random-access needs a positive intra period (e.g. 32)")
        return cls(config, intra_period)  # type: ignore[arg-type]

    @property
    def gop(self) -> int | None:
        """GOP size as papers state it: the intra period for random access, None for low delay."""
        return self.intra_period if self.config == "random-access" else None


@dataclass(frozen=True)
class Codec:
    """One classic codec through one ffmpeg encoder.

    Attributes:
        name: vid1d's id (``"x265"``).
        encoder: ffmpeg encoder (``"libx265"``).
        standard: the coding standard (``"HEVC"``).
        muxer / suffix: ffmpeg output format and file suffix of the elementary stream.
        container: what the file holds, recorded in the RD JSON.
        quality_params: accepted rate knobs, the first is the default.
        default_qualities: the four RD points used when none are given.
        quality_range: inclusive range of the knob's values.
        presets: accepted presets (None: any integer in ``preset_range``).
        default_preset: preset used when none is given.
    """

    name: str
    encoder: str
    standard: str
    muxer: str
    suffix: str
    container: str
    quality_params: tuple[str, ...]
    default_qualities: tuple[int, ...]
    quality_range: tuple[int, int]
    presets: tuple[str, ...] | None
    default_preset: str
    preset_range: tuple[int, int] | None = None

    # --- validation -------------------------------------------------------------
    def check_preset(self, preset: str | None) -> str:
        preset = self.default_preset if preset is None else str(preset)
        if self.presets is not None:
            if preset not in self.presets:
                raise InputError(
                    f"{self.name}: unknown preset {preset!r} "
                    f"(choose from {', '.join(self.presets)})"
                )
            return preset
        lo, hi = self.preset_range or (0, 0)
        if not re.fullmatch(r"-?\d+", preset) or not lo <= int(preset) <= hi:
            raise InputError(
                f"{self.name}: preset must be an integer in {lo}..{hi}, got {preset!r}"
            )
        return str(int(preset))

    def check_quality(self, param: str | None, values) -> tuple[str, list[int]]:
        param = self.quality_params[0] if param is None else param
        if param not in self.quality_params:
            raise InputError(
                f"{self.name}: rate is set by {' or '.join(self.quality_params)}, not {param!r}"
            )
        values = list(self.default_qualities if values is None else values)
        lo, hi = self.quality_range
        if not values:
            raise InputError(f"{self.name}: no {param} values given")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise InputError(
                    f"{self.name}: {param} must be an integer in {lo}..{hi}, got {v!r}"
                )
        if len(set(values)) != len(values):
            raise InputError(f"{self.name}: repeated {param} values {values}")
        return param, values

    def check_gop(self, gop: GopConfig) -> None:
        """Refuse a configuration this encoder cannot produce (default: all are fine)."""

    # --- ffmpeg options ------------------------------------------------------------
    def encode_args(
        self, *, preset: str, param: str, value: int, gop: GopConfig, frames: int
    ) -> list[str]:
        """ffmpeg output options (after ``-i source``) for one encode."""
        raise NotImplementedError

    @property
    def implementation(self) -> str:
        """E.g. ``"libx265 via ffmpeg n9.0.2-17-g2a571b6068-20260930"``."""
        return f"{self.encoder} via ffmpeg {ffmpeg_version()}"


def _keyint(gop: GopConfig, infinite: str) -> str:
    return infinite if gop.intra_period == -1 else str(gop.intra_period)


class X264(Codec):
    def encode_args(self, *, preset, param, value, gop, frames):
        params = [f"keyint={_keyint(gop, 'infinite')}", "scenecut=0"]
        if gop.intra_period > 0:
            params.append(f"min-keyint={gop.intra_period}")
        if gop.config == "low-delay":
            params.append("bframes=0")
        args = ["-c:v", self.encoder, "-preset", preset, f"-{param}", str(value)]
        args += ["-x264-params", ":".join(params)]
        # drop x264's option-string SEI (user data, no picture content)
        return args + ["-bsf:v", "filter_units=remove_types=6"]


class X265(Codec):
    def encode_args(self, *, preset, param, value, gop, frames):
        params = [f"keyint={_keyint(gop, '-1')}", "scenecut=0"]
        if gop.intra_period > 0:
            params.append(f"min-keyint={gop.intra_period}")
        if gop.config == "low-delay":
            params.append("bframes=0")
        params += ["info=0", "log-level=error"]
        args = ["-c:v", self.encoder, "-preset", preset, f"-{param}", str(value)]
        return args + ["-x265-params", ":".join(params)]


class VVenC(Codec):
    def check_gop(self, gop):
        if gop.config == "low-delay" and gop.intra_period != -1:
            raise InputError(
                "vvenc: low-delay with a periodic intra picture is not supported by "
                "VVenC (use --intra-period -1 or --config random-access)"
            )
        if gop.config == "random-access" and gop.intra_period % 8:
            raise InputError(
                f"vvenc: random-access intra period must be a multiple of 8 "
                f"(VVenC GOP sizes are 8, 16 or 32), got {gop.intra_period}"
            )

    def encode_args(self, *, preset, param, value, gop, frames):
        self.check_gop(gop)
        if gop.config == "low-delay":
            # VVenC >= 1.13 low delay: no reordering needs GOPSize 8 and no refresh type
            params = ["PicReordering=0", "GOPSize=8", "DecodingRefreshType=none"]
            params += ["IntraPeriod=-1", "POC0IDR=1"]
        else:
            gop_size = next(g for g in (32, 16, 8) if gop.intra_period % g == 0)
            # POC0IDR=1: without it VVenC codes pictures 0..N-2 as leading pictures of an
            # IDR at picture N-1, so the intra pictures would sit at N-1, 2N-1, ...
            params = [f"GOPSize={gop_size}", "DecodingRefreshType=cra"]
            params += [f"IntraPeriod={gop.intra_period}", "POC0IDR=1"]
        # 10-bit is the only input libvvenc takes; 8-bit samples are scaled exactly (x4)
        args = ["-c:v", self.encoder, "-pix_fmt", "yuv420p10le", "-preset", preset]
        args += ["-qp", str(value), "-b:v", "0", "-qpa", "0"]
        args += ["-vvenc-params", ":".join(params)]
        # libvvenc forces an AUD into every access unit; vvencapp does not
        return args + ["-bsf:v", "filter_units=remove_types=20"]


class SvtAv1(Codec):
    def encode_args(self, *, preset, param, value, gop, frames):
        structure = 1 if gop.config == "low-delay" else 2  # SVT-AV1: 1 low delay, 2 random access
        params = [f"pred-struct={structure}", f"keyint={gop.intra_period}", "scd=0"]
        args = ["-c:v", self.encoder, "-preset", preset, f"-{param}", str(value)]
        return args + ["-svtav1-params", ":".join(params)]


class Aom(Codec):
    def encode_args(self, *, preset, param, value, gop, frames):
        # ffmpeg's default -g is 12, so the key-frame distance is always given; a
        # distance of `frames` means "no second key frame" for this encode.
        kf = frames if gop.intra_period == -1 else gop.intra_period
        args = ["-c:v", self.encoder, "-usage", "good", "-cpu-used", preset]
        args += [f"-{param}", str(value), "-b:v", "0", "-g", str(kf)]
        if gop.intra_period > 0:
            args += ["-keyint_min", str(gop.intra_period)]
        if gop.config == "low-delay":
            args += ["-lag-in-frames", "0"]  # no look-ahead: no alt-ref (future) frames
        return args


_VVENC_PRESETS = ("faster", "fast", "medium", "slow", "slower")
CODECS: dict[str, Codec] = {
    c.name: c
    for c in (
        X264(name="x264", encoder="libx264", standard="H.264/AVC", muxer="h264", suffix=".264",
             container="H.264 Annex-B byte stream", quality_params=("qp", "crf"),
             default_qualities=(22, 27, 32, 37), quality_range=(0, 51),
             presets=_X26X_PRESETS, default_preset="medium"),
        X265(name="x265", encoder="libx265", standard="H.265/HEVC", muxer="hevc", suffix=".265",
             container="HEVC Annex-B byte stream", quality_params=("qp", "crf"),
             default_qualities=(22, 27, 32, 37), quality_range=(0, 51),
             presets=_X26X_PRESETS, default_preset="medium"),
        VVenC(name="vvenc", encoder="libvvenc", standard="H.266/VVC", muxer="vvc", suffix=".266",
              container="VVC Annex-B byte stream", quality_params=("qp",),
              default_qualities=(22, 27, 32, 37), quality_range=(0, 63),
              presets=_VVENC_PRESETS, default_preset="medium"),
        SvtAv1(name="svtav1", encoder="libsvtav1", standard="AV1", muxer="obu", suffix=".obu",
               container="AV1 low-overhead OBU stream", quality_params=("crf",),
               default_qualities=(27, 35, 43, 51), quality_range=(1, 63),
               presets=None, default_preset="6", preset_range=(-2, 13)),
        Aom(name="aom", encoder="libaom-av1", standard="AV1", muxer="obu", suffix=".obu",
            container="AV1 low-overhead OBU stream", quality_params=("crf",),
            default_qualities=(27, 35, 43, 51), quality_range=(0, 63),
            presets=None, default_preset="4", preset_range=(0, 8)),
    )
}  # fmt: skip
_ALIASES = {
    "libx264": "x264", "h264": "x264", "avc": "x264",
    "libx265": "x265", "hevc": "x265",
    "libvvenc": "vvenc", "vvc": "vvenc",
    "svt-av1": "svtav1", "libsvtav1": "svtav1",
    "libaom": "aom", "libaom-av1": "aom", "aom-av1": "aom",
}  # fmt: skip


def get_codec(name: str) -> Codec:
    """The codec called ``name`` (or an alias like ``libx265``); checks ffmpeg has its encoder."""
    key = _ALIASES.get(name.lower(), name.lower()) if isinstance(name, str) else name
    try:
        codec = CODECS[key]
    except (KeyError, TypeError):
        raise InputError(f"unknown codec {name!r} (choose from {', '.join(CODECS)})") from None
    if codec.encoder not in available_encoders():
        raise ExternalToolError(
            f"{codec.name}: encoder {codec.encoder} is not in this ffmpeg build "
            "(vid1d needs the imageio-ffmpeg binary, which has x264/x265/VVenC/SVT-AV1/libaom)"
        )
    return codec


@functools.lru_cache(maxsize=1)
def available_encoders() -> frozenset[str]:
    """Names of the video encoders the ffmpeg binary was built with."""
    out = run_ffmpeg(["-encoders"], desc="ffmpeg -encoders").stdout.decode(errors="replace")
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("V") and len(parts[0]) == 6:
            names.add(parts[1])
    return frozenset(names)


# What each encoder says about its version when it runs at -loglevel info.
_VERSION_PATTERNS: dict[str, tuple[str, str]] = {
    "libx264": ("stdout", r"x264 - (core \d+(?: r\d+ [0-9a-f]+)?)"),
    "libx265": ("stderr", r"HEVC encoder version (\S+)"),
    "libvvenc": ("stderr", r"libvvenc version: (\S+)"),
    "libsvtav1": ("stderr", r"SVT-AV1 Encoder Lib (v\S+)"),
    "libaom-av1": ("stderr", r"\[libaom-av1 @ [^\]]+\] (v\S+)"),
}


@functools.cache
def encoder_version(codec: Codec) -> str:
    """The library version of a codec's ffmpeg encoder (e.g. ``"4.3+49-020d7054"`` for libx265).

    Found by encoding two 64x64 frames and reading the encoder's banner (x264 states
    its version only in the SEI it writes into the stream). ``"unknown"`` if the
    banner does not say.
    """
    where, pattern = _VERSION_PATTERNS.get(codec.encoder, ("stderr", r"$^"))
    extra = ["-pix_fmt", "yuv420p10le"] if codec.encoder == "libvvenc" else []
    args = ["-loglevel", "info", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=25"]
    args += ["-frames:v", "2", "-c:v", codec.encoder, *extra, "-f", codec.muxer, "-"]
    proc = run_ffmpeg(args, desc=f"{codec.encoder} version probe")
    text = (proc.stdout if where == "stdout" else proc.stderr).decode(errors="replace")
    m = re.search(pattern, text)
    return m.group(1) if m else "unknown"
