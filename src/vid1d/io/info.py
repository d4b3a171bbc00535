"""What a video is: :class:`VideoInfo`, the planar sample formats vid1d reads and writes, limits.

Sample formats follow ffmpeg's pixel-format names so that a user can pass the same
string to ``ffmpeg -pix_fmt``: ``yuv420p`` (8-bit 4:2:0), ``yuv420p10le`` (10-bit
samples stored as little-endian 16-bit words), ``yuv444p``, ``yuv444p10le`` and the
12-bit variants. Every width/height that comes from a file header or a file name is
checked against :data:`MAX_DIM` before anything is allocated.
"""

from __future__ import annotations

import fractions
import math
from dataclasses import dataclass

import numpy as np

from vid1d.errors import InputError

MAX_DIM = 16384
"""Largest accepted width or height (8K UHD is 7680x4320; 16K covers every test corpus)."""

DEFAULT_FPS = fractions.Fraction(30)
"""Frame rate assumed for raw YUV and frame folders when neither the name nor the user gives one."""


@dataclass(frozen=True)
class VideoInfo:
    """Static description of a video source.

    ``num_frames`` is None when the container does not say (use
    :func:`vid1d.io.count_frames` for an exact count). ``pix_fmt`` is the native
    sample format of the source (e.g. ``"yuv420p"``, ``"yuv420p10le"``, ``"rgb24"``),
    ``container`` is ``"y4m"``, ``"yuv"``, ``"png"`` (a frame folder) or PyAV's
    format name (e.g. ``"mov,mp4,m4a,3gp,3g2,mj2"``).
    """

    width: int
    height: int
    fps: fractions.Fraction
    num_frames: int | None
    pix_fmt: str
    bit_depth: int
    path: str
    container: str


@dataclass(frozen=True)
class PlanarFormat:
    """A planar Y'CbCr layout: chroma subsampling (``"420"`` or ``"444"``) and bit depth."""

    name: str
    chroma: str
    bit_depth: int

    @property
    def dtype(self) -> np.dtype:
        """Sample type on disk: bytes for 8-bit, little-endian 16-bit words above."""
        return np.dtype(np.uint8) if self.bit_depth == 8 else np.dtype("<u2")

    @property
    def max_value(self) -> int:
        return (1 << self.bit_depth) - 1

    def chroma_size(self, width: int, height: int) -> tuple[int, int]:
        """(w, h) of the Cb and Cr planes."""
        if self.chroma == "420":
            return (width + 1) // 2, (height + 1) // 2
        return width, height

    def plane_shapes(self, width: int, height: int) -> list[tuple[int, int]]:
        """numpy shapes (rows, cols) of the Y, Cb and Cr planes."""
        cw, ch = self.chroma_size(width, height)
        return [(height, width), (ch, cw), (ch, cw)]

    def frame_bytes(self, width: int, height: int) -> int:
        n = sum(r * c for r, c in self.plane_shapes(width, height))
        return n * self.dtype.itemsize

    def unpack(self, buf: bytes, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Split one frame's bytes (Y, then Cb, then Cr) into plane arrays (views of ``buf``)."""
        flat = np.frombuffer(buf, dtype=self.dtype)
        planes, start = [], 0
        for rows, cols in self.plane_shapes(width, height):
            planes.append(flat[start:start + rows * cols].reshape(rows, cols))
            start += rows * cols
        return planes[0], planes[1], planes[2]


PLANAR_FORMATS: dict[str, PlanarFormat] = {
    f.name: f
    for f in (
        PlanarFormat(f"yuv{chroma}p{'' if bits == 8 else f'{bits}le'}", chroma, bits)
        for chroma in ("420", "444")
        for bits in (8, 10, 12)
    )
}


def planar_format(pix_fmt: str) -> PlanarFormat:
    """Look up a planar format by its ffmpeg name; InputError listing the choices otherwise."""
    try:
        return PLANAR_FORMATS[pix_fmt]
    except KeyError:
        raise InputError(
            f"unsupported pixel format {pix_fmt!r} (supported: {', '.join(PLANAR_FORMATS)})"
        ) from None


def check_frame_size(width: int, height: int, *, chroma: str | None = None, what: str = "video") -> None:
    """Reject non-positive, huge, or (for 4:2:0) odd frame sizes with a clear InputError."""
    if not (isinstance(width, int | np.integer) and isinstance(height, int | np.integer)):
        raise InputError(f"{what}: frame size must be integers, got {width!r}x{height!r}")
    if not (0 < width <= MAX_DIM and 0 < height <= MAX_DIM):
        raise InputError(f"{what}: frame size {width}x{height} is outside 1..{MAX_DIM}")
    if chroma == "420" and (width % 2 or height % 2):
        raise InputError(
            f"{what}: 4:2:0 needs even width and height, got {width}x{height} "
            "(pad with vid1d.io.pad_to_multiple, or use 4:4:4)"
        )


_NTSC_BASES = (24, 30, 48, 60, 120, 240)


def to_fraction(fps: float | int | str | fractions.Fraction, *, what: str = "fps") -> fractions.Fraction:
    """A frame rate as an exact Fraction: 29.97 -> 30000/1001, "25" -> 25, "30000/1001" kept.

    Floats near an NTSC rate (N*1000/1001) map to it exactly, because that is what
    every container stores and 29.97 is what users type.
    """
    try:
        if isinstance(fps, str):
            f = fractions.Fraction(fps.strip())
        elif isinstance(fps, fractions.Fraction | int):
            f = fractions.Fraction(fps)
        else:
            x = float(fps)
            if not math.isfinite(x):
                raise ValueError
            f = fractions.Fraction(x).limit_denominator(1001)
            for base in _NTSC_BASES:
                ntsc = fractions.Fraction(base * 1000, 1001)
                if abs(x - float(ntsc)) < 5e-3:
                    f = ntsc
    except (ValueError, ZeroDivisionError, TypeError):
        raise InputError(f"{what}: not a frame rate: {fps!r}") from None
    if not (0 < f <= 1000):
        raise InputError(f"{what}: frame rate {fps} is outside (0, 1000]")
    return f


# Output containers written through PyAV: file extension -> FFmpeg muxer. Here, not in
# vid1d.io.pyav, so that choosing a reader or writer does not import PyAV (.y4m, .yuv
# and the learned codecs work without it).
CONTAINER_FORMATS = {"mp4": "mp4", "mkv": "matroska", "mov": "mov", "avi": "avi"}
