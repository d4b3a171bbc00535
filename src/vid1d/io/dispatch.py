"""Entry points: open a reader or a writer for a path, count frames, write a clip.

Readers dispatch on the path: a folder is a frame folder, ``.y4m`` is Y4M, ``.yuv``
(and ``.raw``) is headerless planar YUV, anything else goes to PyAV. Writers
dispatch on ``format=`` or the extension; a path ending in ``/`` or without a
suffix is a PNG folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import torch

from vid1d.errors import InputError
from vid1d.io.info import CONTAINER_FORMATS, planar_format
from vid1d.io.reader import VideoReader
from vid1d.io.writer import VideoWriter
from vid1d.io.y4m import Y4MReader, Y4MWriter
from vid1d.io.yuv import YUVReader, YUVWriter

RAW_EXTENSIONS = (".yuv", ".raw")
WRITE_FORMATS = ("y4m", "yuv", "png", *CONTAINER_FORMATS)


def open_video(path: str | os.PathLike, *, size: tuple[int, int] | None = None,
               pix_fmt: str | None = None, fps: float | None = None,
               matrix: str | None = None, full_range: bool | None = None) -> VideoReader:
    """Open a video for reading; InputError when it is missing or unreadable.

    Args:
        path: a video file (.y4m, .yuv, or anything PyAV reads) or a frame folder.
        size: (width, height) of a raw .yuv file (else parsed from its name,
            ``Name_1920x1080_50.yuv``). For other sources it must match if given.
        pix_fmt: sample format of a raw .yuv (``yuv420p`` default, ``yuv420p10le``,
            ``yuv444p``, ...). For other sources it must match if given.
        fps: overrides the source's frame rate (raw .yuv: else from the name, else 30).
        matrix, full_range: how Y'CbCr becomes RGB. Defaults: BT.709 limited for
            .y4m (``XCOLORRANGE=FULL`` honoured) and .yuv; the stream's own tags for
            PyAV sources (untagged = BT.601 limited, as libswscale does).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file or directory")
    if not (p.is_file() or p.is_dir()):
        # Readers open a file more than once (and Y4M/YUV seek), which a FIFO or a
        # device cannot serve; opening a FIFO would also wait for a writer forever.
        raise InputError(f"{path}: not a regular file or a folder of frames")
    kw = {"fps": fps, "matrix": matrix, "full_range": full_range}
    if p.suffix.lower() in RAW_EXTENSIONS and not p.is_dir():
        return YUVReader(p, size=size, pix_fmt=pix_fmt, **kw)
    # PyAV is imported only for the sources that need it (frame folders, containers).
    if p.is_dir():
        from vid1d.io.png import PNGFolderReader

        reader: VideoReader = PNGFolderReader(p, **kw)
    elif p.suffix.lower() == ".y4m":
        reader = Y4MReader(p, **kw)
    else:
        from vid1d.io.pyav import PyAVReader

        reader = PyAVReader(p, **kw)
    info = reader.info
    if size is not None and tuple(size) != (info.width, info.height):
        reader.close()
        raise InputError(f"{path}: is {info.width}x{info.height}, not {size[0]}x{size[1]} as given")
    if pix_fmt is not None and pix_fmt != info.pix_fmt:
        reader.close()
        raise InputError(f"{path}: is {info.pix_fmt}, not {pix_fmt} as given")
    return reader


def count_frames(path: str | os.PathLike, **kw) -> int:
    """Exact number of frames: header arithmetic for .y4m/.yuv/folders, decoding otherwise."""
    with open_video(path, **kw) as reader:
        count = getattr(reader, "count", None)  # PyAVReader: decode to count
        return int(count() if callable(count) else reader.info.num_frames)


def _infer_format(path: str | os.PathLike) -> str:
    s = os.fspath(path)
    suffix = Path(s).suffix.lower()
    if s.endswith(("/", os.sep)) or not suffix:
        return "png"
    fmt = suffix[1:]
    if fmt not in WRITE_FORMATS or fmt == "png":
        raise InputError(
            f"{path}: cannot infer the output format from '{suffix}' (use .mp4, .mkv, .mov, .avi, "
            ".y4m, .yuv, or a folder path ending in '/' for PNG frames)"
        )
    return fmt


def open_writer(path: str | os.PathLike, *, width: int, height: int, fps,
                format: str | None = None, pix_fmt: str | None = None, codec: str | None = None,
                crf: int | None = None, lossless: bool = False, matrix: str = "bt709",
                full_range: bool = False, options: dict[str, str] | None = None) -> VideoWriter:
    """Open a writer; the output appears atomically when it is closed without error.

    Args:
        format: ``mp4``, ``mkv``, ``mov``, ``avi``, ``y4m``, ``yuv`` or ``png`` (a folder of
            ``frame_000000.png``...); inferred from ``path`` when None.
        pix_fmt: samples stored. y4m/yuv: ``yuv420p`` (default), ``yuv420p10le``,
            ``yuv444p``, ``yuv444p10le`` (and 12-bit). mp4/mkv/mov/avi: those or
            ``rgb24``; default ``yuv420p``, or ``rgb24`` when ``lossless``. png: ``rgb24``.
        codec, crf: FFmpeg encoder and its CRF (default libx264 at CRF 18; ``rgb24`` uses
            libx264rgb).
        lossless: exact output. With ``rgb24`` (the default then) RGB frames round-trip
            bit-exactly: libx264rgb ``-qp 0`` in mp4/mov/avi, ffv1 in mkv. With a yuv
            pix_fmt the Y'CbCr samples are exact (libx264 ``-qp 0`` / ffv1).
        matrix, full_range: Y'CbCr conversion of RGB input (and the stream's colour tags).
        options: extra encoder options (e.g. ``{"preset": "veryslow"}``).
    """
    fmt = (format or _infer_format(path)).lower()
    if fmt not in WRITE_FORMATS:
        raise InputError(f"unknown output format {format!r} (use one of {', '.join(WRITE_FORMATS)})")
    common = {"width": width, "height": height, "fps": fps, "matrix": matrix,
              "full_range": full_range}
    if fmt in CONTAINER_FORMATS:
        from vid1d.io.pyav import PyAVWriter

        return PyAVWriter(path, format=fmt, pix_fmt=pix_fmt, codec=codec, crf=crf,
                          lossless=lossless, options=options, **common)
    if codec is not None or crf is not None or options:
        raise InputError(f"codec/crf/options do not apply to {fmt} output (it is uncompressed)")
    if fmt == "png":
        if pix_fmt not in (None, "rgb24"):
            raise InputError(f"PNG folders are written as rgb24, not {pix_fmt}")
        from vid1d.io.png import PNGFolderWriter

        return PNGFolderWriter(path, planar=None, is_dir=True, **common)
    planar = planar_format(pix_fmt or "yuv420p")
    cls = Y4MWriter if fmt == "y4m" else YUVWriter
    return cls(path, planar=planar, **common)


def write_video(path: str | os.PathLike, chunks: Iterable[torch.Tensor], *, fps,
                **writer_kwargs) -> Path:
    """Write RGB chunks (3, T, H, W) to ``path`` (size from the first chunk); returns the path."""
    it = iter(chunks)
    first = next(it, None)
    if first is None:
        raise InputError(f"{path}: no frames to write")
    if first.ndim != 4 or first.shape[0] != 3:
        raise InputError(f"{path}: expected RGB chunks (3, T, H, W), got {tuple(first.shape)}")
    with open_writer(path, width=int(first.shape[-1]), height=int(first.shape[-2]), fps=fps,
                     **writer_kwargs) as writer:
        writer.write(first)
        for chunk in it:
            writer.write(chunk)
    return Path(path)
