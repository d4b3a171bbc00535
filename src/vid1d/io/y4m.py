"""YUV4MPEG2 (.y4m): the raw-video container of codec research (Xiph/Derf test media).

Format (mjpegtools yuv4mpeg(5), as written and read by ffmpeg)::

    YUV4MPEG2 W176 H144 F30000:1001 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n
    FRAME\n <Y plane> <Cb plane> <Cr plane>
    FRAME\n ...

Colour tags read: ``C420jpeg`` (default), ``C420mpeg2``, ``C420paldv``, ``C420``
(all 8-bit 4:2:0; the siting variants are read alike), ``C444``, and ffmpeg's
high-bit-depth tags ``C420p10``, ``C444p10``, ``C420p12``, ``C444p12`` (samples as
little-endian 16-bit words, like yuv420p10le). Interlace (``I``), aspect (``A``)
and extension (``X...``) fields are accepted; ``XCOLORRANGE=FULL`` selects
full-range conversion to RGB. Missing or ``0:0`` frame rate means 25 fps (ffmpeg).

The writer emits ``C420jpeg`` for 8-bit 4:2:0 because our 2x2 box-average chroma
is centre-sited, which is what ``C420jpeg`` declares.
"""

from __future__ import annotations

import fractions
import os
import re
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vid1d.errors import InputError
from vid1d.io.color import matrix_name
from vid1d.io.info import PLANAR_FORMATS, PlanarFormat, VideoInfo, check_frame_size, to_fraction
from vid1d.io.reader import Planes, VideoReader
from vid1d.io.writer import VideoWriter

MAGIC = b"YUV4MPEG2"
_MAX_HEADER = 4096  # bytes; real headers are < 100
_MAX_FRAME_HEADER = 1024

_COLOUR_TAGS = {
    "420jpeg": "yuv420p", "420mpeg2": "yuv420p", "420paldv": "yuv420p", "420": "yuv420p",
    "444": "yuv444p", "420p10": "yuv420p10le", "444p10": "yuv444p10le",
    "420p12": "yuv420p12le", "444p12": "yuv444p12le",
}
_WRITE_TAGS = {
    "yuv420p": "C420jpeg", "yuv444p": "C444", "yuv420p10le": "C420p10",
    "yuv444p10le": "C444p10", "yuv420p12le": "C420p12", "yuv444p12le": "C444p12",
}
_DEFAULT_FPS = fractions.Fraction(25)


def _read_line(f, limit: int, what: str, path: str) -> bytes:
    """Read up to and including a newline; InputError when it is missing or too long."""
    line = f.readline(limit + 1)
    if not line.endswith(b"\n"):
        if len(line) > limit:
            raise InputError(f"{path}: {what} is longer than {limit} bytes; not a Y4M file?")
        raise InputError(f"{path}: truncated {what}")
    return line[:-1]


def parse_header(line: bytes, path: str = "<y4m>") -> dict:
    """Parse a Y4M stream header line (without the newline) into its fields."""
    if not line.startswith(MAGIC + b" ") and line != MAGIC:
        raise InputError(f"{path}: not a Y4M file (missing 'YUV4MPEG2' signature)")
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        raise InputError(f"{path}: Y4M header is not ASCII") from None
    out: dict = {"fps": _DEFAULT_FPS, "pix_fmt": "yuv420p", "full_range": None,
                 "interlace": "p", "aspect": None}
    width = height = None
    for tok in text.split()[1:]:
        key, val = tok[0], tok[1:]
        if key in "WH":
            if not re.fullmatch(r"\d{1,9}", val):
                raise InputError(f"{path}: bad Y4M size field {tok!r}")
            if key == "W":
                width = int(val)
            else:
                height = int(val)
        elif key == "F":
            m = re.fullmatch(r"(\d{1,10}):(\d{1,10})", val)
            if not m:
                raise InputError(f"{path}: bad Y4M frame rate field {tok!r}")
            num, den = int(m[1]), int(m[2])
            if num > 0 and den > 0:
                out["fps"] = to_fraction(fractions.Fraction(num, den), what=f"{path}: Y4M frame rate")
        elif key == "C":
            if val not in _COLOUR_TAGS:
                raise InputError(
                    f"{path}: unsupported Y4M colour space C{val} (supported: "
                    f"{', '.join('C' + t for t in _COLOUR_TAGS)})"
                )
            out["pix_fmt"] = _COLOUR_TAGS[val]
        elif key == "I":
            out["interlace"] = val
        elif key == "A":
            out["aspect"] = val
        elif key == "X":
            if val.upper().startswith("COLORRANGE="):
                rng = val.split("=", 1)[1].upper()
                out["full_range"] = {"FULL": True, "LIMITED": False}.get(rng)
        # Unknown single-letter fields are reserved by the spec; ignore them.
    if width is None or height is None:
        raise InputError(f"{path}: Y4M header lacks the W (width) or H (height) field")
    fmt = PLANAR_FORMATS[out["pix_fmt"]]
    check_frame_size(width, height, chroma=fmt.chroma, what=f"{path}: Y4M header")
    out["width"], out["height"] = width, height
    return out


def format_header(width: int, height: int, fps: fractions.Fraction, pix_fmt: str,
                  full_range: bool = False) -> bytes:
    """The stream header line (with newline) that :class:`Y4MWriter` writes."""
    if pix_fmt not in _WRITE_TAGS:
        raise InputError(f"Y4M cannot hold {pix_fmt!r} (supported: {', '.join(_WRITE_TAGS)})")
    rng = "FULL" if full_range else "LIMITED"
    return (f"YUV4MPEG2 W{width} H{height} F{fps.numerator}:{fps.denominator} Ip A1:1 "
            f"{_WRITE_TAGS[pix_fmt]} XCOLORRANGE={rng}\n").encode("ascii")


class Y4MReader(VideoReader):
    """Reads a .y4m file frame by frame; the frame index is built at open by seeking.

    The scan at open validates every FRAME marker and the final frame's length, so a
    truncated file is an InputError up front, never a silently short clip.
    """

    def __init__(self, path: str | os.PathLike, *, fps=None, matrix: str | None = None,
                 full_range: bool | None = None) -> None:
        super().__init__()
        self.path = str(path)
        try:
            # A small buffer: the scan below reads ~6 bytes per frame and seeks past the rest.
            f = open(path, "rb", buffering=512)  # closed by the with below
        except OSError as e:
            raise InputError(f"cannot open {path}: {e.strerror}") from None
        with f:
            hdr = parse_header(_read_line(f, _MAX_HEADER, "Y4M header", self.path), self.path)
            self.yuv_format: PlanarFormat = PLANAR_FORMATS[hdr["pix_fmt"]]
            self._frame_bytes = self.yuv_format.frame_bytes(hdr["width"], hdr["height"])
            self._offsets = self._scan(f)
        if matrix is not None:
            self.matrix = matrix_name(matrix)
        self.full_range = bool(full_range if full_range is not None else hdr["full_range"])
        self.info = VideoInfo(
            width=hdr["width"], height=hdr["height"],
            fps=to_fraction(fps) if fps is not None else hdr["fps"],
            num_frames=len(self._offsets), pix_fmt=self.yuv_format.name,
            bit_depth=self.yuv_format.bit_depth, path=self.path, container="y4m",
        )

    @property
    def frame_offsets(self) -> array:
        """Byte offset of every frame's payload (after its FRAME line), from the scan at open."""
        return self._offsets

    def _scan(self, f) -> array:
        """Offsets of every frame's payload; checks markers and the final frame's size."""
        size = os.fstat(f.fileno()).st_size
        offsets = array("q")
        pos = f.tell()
        while pos < size:
            line = _read_line(f, _MAX_FRAME_HEADER, f"FRAME header of frame {len(offsets)}", self.path)
            if not (line == b"FRAME" or line.startswith(b"FRAME ")):
                raise InputError(
                    f"{self.path}: expected 'FRAME' at byte {pos} (frame {len(offsets)}), "
                    f"found {line[:16]!r}; corrupt file or wrong header size"
                )
            start = f.tell()
            if start + self._frame_bytes > size:
                raise InputError(
                    f"{self.path}: frame {len(offsets)} is truncated "
                    f"({size - start} of {self._frame_bytes} bytes)"
                )
            offsets.append(start)
            pos = start + self._frame_bytes
            f.seek(pos)
        return offsets

    def _yuv_frames(self) -> Iterator[Planes]:
        fmt, w, h = self.yuv_format, self.info.width, self.info.height
        with open(self.path, "rb", buffering=0) as f:
            for i, off in enumerate(self._offsets):
                buf = self._read_frame_bytes(f, off, self._frame_bytes, i)
                planes = fmt.unpack(buf, w, h)
                self._check_sample_range(planes, i)
                yield planes


class Y4MWriter(VideoWriter):
    """Writes a .y4m file (header, then ``FRAME\\n`` + planes per frame)."""

    def _open(self, tmp: Path) -> None:
        header = format_header(self.width, self.height, self.fps, self.planar.name, self.full_range)
        self._file = open(tmp, "wb")  # closed in _finish/_release
        self._file.write(header)

    def _write_planes(self, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        for t in range(y.shape[0]):
            self._file.write(b"FRAME\n")
            for p in (y[t], u[t], v[t]):
                self._file.write(np.ascontiguousarray(p))
