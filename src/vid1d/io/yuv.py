"""Raw planar YUV (.yuv): no header, so size and sample format come from the caller or the name.

The codec-research naming convention carries the size and often the frame rate:
``BasketballDrive_1920x1080_50.yuv``, ``RaceHorses_416x240_30.yuv``,
``Tango2_3840x2160_60fps_10bit_420.yuv``. :func:`parse_yuv_filename` reads
``WxH`` and a frame rate in the field right after it (``_50``, ``_50fps``,
``_59.94``, ``_60Hz``). When no ``pix_fmt`` is given, a ``_10bit`` / ``_12bit``
field and a ``_444`` field in the name select the sample format; otherwise
``yuv420p``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vid1d.errors import InputError
from vid1d.io.color import matrix_name
from vid1d.io.info import (
    DEFAULT_FPS,
    MAX_DIM,
    PlanarFormat,
    VideoInfo,
    check_frame_size,
    planar_format,
    to_fraction,
)
from vid1d.io.reader import Planes, VideoReader
from vid1d.io.writer import VideoWriter

_SIZE_RE = re.compile(
    r"(?:^|[_\-.])(\d{1,5})x(\d{1,5})(?:[_\-](\d{1,3}(?:\.\d{1,3})?)(?:fps|hz|p)?)?(?=[_\-.]|$)",
    re.IGNORECASE,
)
_BITS_RE = re.compile(r"(?:^|[_\-.])(8|10|12)b(?:it)?(?=[_\-.]|$)", re.IGNORECASE)
_444_RE = re.compile(r"(?:^|[_\-.])(?:yuv)?444(?:p)?(?=[_\-.]|$)", re.IGNORECASE)


def parse_yuv_filename(name: str | os.PathLike) -> tuple[int, int, float | None]:
    """(width, height, fps or None) from a name like ``BasketballDrive_1920x1080_50.yuv``.

    InputError when the name carries no ``WxH`` field or the size is out of range.
    """
    stem = Path(name).name
    if stem.lower().endswith(".yuv"):
        stem = stem[:-4]
    m = _SIZE_RE.search(stem)
    if not m:
        raise InputError(
            f"{name}: cannot infer the frame size from the file name (expected e.g. "
            "'Name_1920x1080_50.yuv'); pass size=(W, H)"
        )
    w, h = int(m[1]), int(m[2])
    if not (0 < w <= MAX_DIM and 0 < h <= MAX_DIM):
        raise InputError(f"{name}: frame size {w}x{h} from the file name is outside 1..{MAX_DIM}")
    fps = float(m[3]) if m[3] is not None else None
    if fps is not None and not (0 < fps <= 1000):
        fps = None
    return w, h, fps


def _pix_fmt_from_name(name: str) -> str:
    stem = Path(name).name
    bits = _BITS_RE.search(stem)
    chroma = "444" if _444_RE.search(stem) else "420"
    depth = int(bits[1]) if bits else 8
    return f"yuv{chroma}p" + ("" if depth == 8 else f"{depth}le")


class YUVReader(VideoReader):
    """Reads headerless planar YUV frame by frame (seek + read of one frame)."""

    def __init__(self, path: str | os.PathLike, *, size: tuple[int, int] | None = None,
                 pix_fmt: str | None = None, fps=None, matrix: str | None = None,
                 full_range: bool | None = None) -> None:
        super().__init__()
        self.path = str(path)
        name_fps = None
        if size is None:
            w, h, name_fps = parse_yuv_filename(path)
        else:
            try:
                w, h = (int(s) for s in size)
            except (TypeError, ValueError):
                raise InputError(f"{path}: size must be (width, height), got {size!r}") from None
            try:
                name_fps = parse_yuv_filename(path)[2]
            except InputError:
                pass
        self.yuv_format: PlanarFormat = planar_format(pix_fmt or _pix_fmt_from_name(self.path))
        check_frame_size(w, h, chroma=self.yuv_format.chroma, what=self.path)
        self._frame_bytes = self.yuv_format.frame_bytes(w, h)
        try:
            nbytes = os.path.getsize(path)
        except OSError as e:
            raise InputError(f"cannot open {path}: {e.strerror}") from None
        if nbytes % self._frame_bytes:
            raise InputError(
                f"{path}: size {nbytes} bytes is not a whole number of {w}x{h} "
                f"{self.yuv_format.name} frames ({self._frame_bytes} bytes each): the last frame "
                f"is truncated ({nbytes % self._frame_bytes} bytes), or size/pix_fmt are wrong"
            )
        if fps is not None:
            rate = to_fraction(fps)
        elif name_fps is not None:
            rate = to_fraction(name_fps, what=f"{path}: fps from the file name")
        else:
            rate = DEFAULT_FPS
        if matrix is not None:
            self.matrix = matrix_name(matrix)
        self.full_range = bool(full_range)
        self.info = VideoInfo(
            width=w, height=h, fps=rate, num_frames=nbytes // self._frame_bytes,
            pix_fmt=self.yuv_format.name, bit_depth=self.yuv_format.bit_depth,
            path=self.path, container="yuv",
        )

    def _yuv_frames(self) -> Iterator[Planes]:
        fmt = self.yuv_format
        w, h = self.info.width, self.info.height
        with open(self.path, "rb", buffering=0) as f:
            for i in range(self.info.num_frames):
                buf = self._read_frame_bytes(f, i * self._frame_bytes, self._frame_bytes, i)
                planes = fmt.unpack(buf, w, h)
                self._check_sample_range(planes, i)
                yield planes


class YUVWriter(VideoWriter):
    """Writes headerless planar YUV (Y, Cb, Cr planes per frame, like ffmpeg -f rawvideo)."""

    def _open(self, tmp: Path) -> None:
        self._file = open(tmp, "wb")  # closed in _finish/_release

    def _write_planes(self, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        for t in range(y.shape[0]):
            for p in (y[t], u[t], v[t]):
                self._file.write(np.ascontiguousarray(p))
