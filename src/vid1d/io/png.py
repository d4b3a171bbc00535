"""Frame folders: ``frame_000000.png, frame_000001.png, ...`` (Vimeo-90k style datasets, tools).

PNGs are encoded and decoded with PyAV's ``png`` codec (no Pillow needed); folders
of JPEGs are read too (``mjpeg`` decoder). PyAV is imported where images are coded, so
:func:`list_frames` (the dataset scan of a folder of .y4m files) works without it.
Files are taken in natural order (``f2.png`` before ``f10.png``). A folder has no frame rate: 30 fps unless given.
The writer produces 8-bit RGB PNGs named ``frame_%06d.png`` and the folder appears
atomically on close.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vid1d.errors import ExternalToolError, InputError
from vid1d.io.color import matrix_name
from vid1d.io.info import (
    DEFAULT_FPS,
    PLANAR_FORMATS,
    PlanarFormat,
    VideoInfo,
    check_frame_size,
    to_fraction,
)
from vid1d.io.reader import Planes, VideoReader
from vid1d.io.writer import VideoWriter

if TYPE_CHECKING:
    import av

_DECODERS = {".png": "png", ".jpg": "mjpeg", ".jpeg": "mjpeg"}


def _natural_key(p: Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.name)]


def list_frames(folder: str | os.PathLike) -> list[Path]:
    """The image files of a frame folder in natural order (PNG preferred over JPEG)."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    for exts in ((".png",), (".jpg", ".jpeg")):
        chosen = [p for p in files if p.suffix.lower() in exts]
        if chosen:
            return sorted(chosen, key=_natural_key)
    raise InputError(f"{folder}: no .png or .jpg frames in this folder")


def decode_image(path: Path) -> av.VideoFrame:
    """Decode one PNG/JPEG file with PyAV; InputError when it is not a readable image."""
    import av

    try:
        data = path.read_bytes()
        ctx = av.CodecContext.create(_DECODERS[path.suffix.lower()], "r")
        frames = ctx.decode(av.Packet(data)) + ctx.decode(None)
    except (OSError, av.error.FFmpegError) as e:
        raise InputError(f"{path}: cannot decode image ({e})") from None
    if not frames:
        raise InputError(f"{path}: cannot decode image (no picture)")
    return frames[0]


class PNGFolderReader(VideoReader):
    """Reads a folder of images as a video, one file per frame."""

    _rgb_native = True

    def __init__(self, path: str | os.PathLike, *, fps=None, matrix: str | None = None,
                 full_range: bool | None = None) -> None:
        super().__init__()
        self.path = str(path)
        self._files = list_frames(path)
        first = decode_image(self._files[0])
        check_frame_size(first.width, first.height, what=str(self._files[0]))
        bits = max(c.bits for c in first.format.components)
        self._rgb_fmt, self._rgb_max = ("rgb48le", 65535) if bits > 8 else ("rgb24", 255)
        self.yuv_format: PlanarFormat = PLANAR_FORMATS["yuv420p10le" if bits > 8 else "yuv420p"]
        if matrix is not None:
            self.matrix = matrix_name(matrix)
        self.full_range = bool(full_range)
        self.info = VideoInfo(
            width=first.width, height=first.height,
            fps=to_fraction(fps) if fps is not None else DEFAULT_FPS,
            num_frames=len(self._files), pix_fmt=first.format.name, bit_depth=bits,
            path=self.path, container=_DECODERS[self._files[0].suffix.lower()],
        )

    def _rgb_frames(self) -> Iterator[np.ndarray]:
        for i, f in enumerate(self._files):
            frame = decode_image(f)
            if (frame.width, frame.height) != (self.info.width, self.info.height):
                raise InputError(f"{f}: frame {i} is {frame.width}x{frame.height}, not "
                                 f"{self.info.width}x{self.info.height} like the first frame")
            yield frame.to_ndarray(format=self._rgb_fmt)

    def _yuv_frames(self) -> Iterator[Planes]:
        return self._yuv_from_rgb_frames()


class PNGFolderWriter(VideoWriter):
    """Writes ``frame_%06d.png`` (8-bit RGB) into a folder that appears on close.

    An existing folder is replaced only if it holds nothing but such frames."""

    replaceable = "frame_*.png"

    def _open(self, tmp: Path) -> None:
        import av

        self._dir = tmp
        self._enc = av.CodecContext.create("png", "w")
        self._enc.width, self._enc.height, self._enc.pix_fmt = self.width, self.height, "rgb24"
        self._index = 0

    def _write_rgb(self, rgb: np.ndarray) -> None:
        import av

        for t in range(rgb.shape[0]):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[t]), format="rgb24")
            try:
                data = b"".join(bytes(p) for p in self._enc.encode(frame))
            except av.error.FFmpegError as e:
                raise ExternalToolError(f"{self.path}: PNG encoding failed ({e})") from None
            (self._dir / f"frame_{self._index:06d}.png").write_bytes(data)
            self._index += 1
