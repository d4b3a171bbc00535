"""Random access: read frames ``indices`` of a :class:`Source`, cropped to a window.

:func:`read_clip` opens the source, reads only what the clip needs and closes it
again, so nothing stays open or cached between samples (safe in DataLoader workers).

* Containers (PyAV): seek to the keyframe at or before the first wanted frame
  (``container.seek(pts, backward=True)``), decode forward and keep the wanted
  frames. Frames are numbered by counting decoder output from the first frame after
  the seek, whose number comes from its timestamp; counting instead of matching
  every timestamp keeps AVI files with B-frames right (their frames carry packet
  *decode* timestamps, out of display order). If a seek lands past the wanted frame
  or yields no timestamp, the clip is decoded from the start instead.
* ``.y4m`` / ``.yuv``: seek to each frame's byte offset and read its planes; only
  the crop window is converted to RGB, by :func:`vid1d.io.color.planes_to_rgb` with
  the matrix and range :mod:`vid1d.io` uses for these files.
* Frame folders: decode the wanted image files (:func:`vid1d.io.png.decode_image`).

Decoded frames and images are converted to RGB by libswscale exactly as
:mod:`vid1d.io` does, so a clip holds the same pixels as :func:`vid1d.io.open_video`
gives for those frames (tested).

This is the random access :mod:`vid1d.io` does not offer yet (its readers stream
from frame 0); it belongs there eventually.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from pathlib import Path

import numpy as np
import torch

from vid1d.data.sources import Source
from vid1d.errors import InputError
from vid1d.io.color import planes_to_rgb
from vid1d.io.info import PLANAR_FORMATS

Window = tuple[int, int, int, int]  # top, left, height, width


def read_clip(src: Source, indices: Sequence[int], window: Window | None = None) -> torch.Tensor:
    """Frames ``indices`` (increasing) of ``src`` as (3, T, h, w) float32 RGB in [0, 1].

    ``window`` = (top, left, height, width) crops every frame (default: whole frame).
    """
    indices = [int(i) for i in indices]
    if not indices:
        raise InputError("read_clip: no frame indices")
    if any(b <= a for a, b in zip(indices, indices[1:], strict=False)):
        raise InputError(f"read_clip: indices must increase, got {indices[:8]}")
    if indices[0] < 0 or indices[-1] >= src.num_frames:
        raise InputError(f"{src.path}: frames {indices[0]}..{indices[-1]} outside 0..{src.num_frames - 1}")
    win = window or (0, 0, src.height, src.width)
    top, left, h, w = win
    if h < 1 or w < 1 or top < 0 or left < 0 or top + h > src.height or left + w > src.width:
        raise InputError(f"{src.path}: crop {win} outside the {src.width}x{src.height} frame")
    reader = {"av": _read_av, "y4m": _read_raw, "yuv": _read_raw, "frames": _read_images}[src.kind]
    return reader(src, indices, win)


# --- containers (PyAV) --------------------------------------------------------------

def _read_av(src: Source, indices: list[int], win: Window) -> torch.Tensor:
    import av

    wanted = set(indices)
    out: list[torch.Tensor] = []
    seekable = src.positions is not None and indices[0] > 0
    try:
        for attempt in ("seek", "from-start") if seekable else ("from-start",):
            out.clear()
            with av.open(src.path) as c:
                stream = c.streams.video[0]
                frames = c.decode(stream)
                k = 0
                if attempt == "seek":
                    c.seek(src.positions[indices[0]], stream=stream, backward=True, any_frame=False)
                    frames = c.decode(stream)
                    first = next(frames, None)
                    if first is None or first.pts is None:
                        continue
                    k = src.positions.index_of(first.pts)
                    if k > indices[0]:  # the seek overshot the clip
                        continue
                    frames = chain([first], frames)
                for frame in frames:
                    if k in wanted:
                        if (frame.width, frame.height) != (src.width, src.height):
                            raise InputError(
                                f"{src.path}: frame {k} is {frame.width}x{frame.height}, not "
                                f"{src.width}x{src.height}; size changes mid-stream are unsupported")
                        out.append(_av_frame_to_rgb(frame, win))
                        if len(out) == len(indices):
                            return torch.stack(out, dim=1)
                    k += 1
    except (av.FFmpegError, OSError) as e:
        raise InputError(f"{src.path}: decoding failed ({e})") from None
    raise InputError(f"{src.path}: decoding ended at frame {k}, before frame {indices[-1]} "
                     f"(the index promised {src.num_frames}); damaged file?")


def _av_frame_to_rgb(frame, win: Window) -> torch.Tensor:
    """A decoded frame or image, cropped to ``win``, as (3, h, w).

    libswscale converts the whole frame, exactly as :class:`vid1d.io.pyav.PyAVReader`
    and :class:`vid1d.io.png.PNGFolderReader` do, so a clip holds the same pixels that
    :func:`vid1d.io.open_video` gives for those frames.
    """
    top, left, h, w = win
    if frame.format.name in ("rgb24", "yuv420p", "yuvj420p", "gray", "pal8"):
        deep = False  # the common cases, without walking the components
    else:
        deep = max(c.bits for c in frame.format.components) > 8
    rgb = frame.to_ndarray(format="rgb48le" if deep else "rgb24")[top:top + h, left:left + w]
    x = torch.from_numpy(np.ascontiguousarray(rgb)).float().div_(65535.0 if deep else 255.0)
    return x.permute(2, 0, 1)


# --- raw planar files ----------------------------------------------------------------

def _read_raw(src: Source, indices: list[int], win: Window) -> torch.Tensor:
    fmt = PLANAR_FORMATS[src.pix_fmt]
    nbytes = fmt.frame_bytes(src.width, src.height)
    frames = []
    try:
        with open(src.path, "rb") as f:
            for i in indices:
                f.seek(src.positions[i])
                buf = f.read(nbytes)
                if len(buf) != nbytes:
                    raise InputError(f"{src.path}: frame {i} is truncated ({len(buf)} of {nbytes} bytes)")
                frames.append(fmt.unpack(buf, src.width, src.height))
    except OSError as e:
        raise InputError(f"cannot read {src.path}: {e.strerror}") from None
    planes = [np.stack([f[c] for f in frames]) for c in range(3)]  # (T, rows, cols) each
    return _planes_window_to_rgb(planes, fmt, src.matrix, src.full_range, win, (src.height, src.width))


def _planes_window_to_rgb(planes, fmt, matrix: str, full_range: bool, win: Window,
                          frame_hw: tuple[int, int]) -> torch.Tensor:
    """Integer planes Y (T, H, W), Cb, Cr (T, h, w) -> RGB (3, T, h, w) of ``win``.

    For 4:2:0 the window is widened to even luma coordinates so the chroma samples
    that cover it are kept, converted, and the exact window sliced afterwards.
    """
    top, left, h, w = win
    H, W = frame_hw
    if fmt.chroma == "420":
        t0, l0 = top - top % 2, left - left % 2
        b1, r1 = min(top + h + (top + h) % 2, H), min(left + w + (left + w) % 2, W)
        cy = slice(t0 // 2, (b1 + 1) // 2)
        cx = slice(l0 // 2, (r1 + 1) // 2)
    else:
        t0, l0, b1, r1 = top, left, top + h, left + w
        cy, cx = slice(t0, b1), slice(l0, r1)
    crops = [planes[0][..., t0:b1, l0:r1], planes[1][..., cy, cx], planes[2][..., cy, cx]]
    y, u, v = (torch.from_numpy(np.ascontiguousarray(p).astype(np.float32)).div_(fmt.max_value)
               for p in crops)
    rgb = planes_to_rgb(y, u, v, chroma=fmt.chroma, matrix=matrix, full_range=full_range,
                        bit_depth=fmt.bit_depth)
    return rgb[..., top - t0:top - t0 + h, left - l0:left - l0 + w].contiguous()


# --- frame folders -------------------------------------------------------------------

def _read_images(src: Source, indices: list[int], win: Window) -> torch.Tensor:
    from vid1d.io.png import decode_image

    out = []
    for i in indices:
        path = Path(src.path) / src.files[i]
        frame = decode_image(path)
        if (frame.width, frame.height) != (src.width, src.height):
            raise InputError(f"{path}: frame is {frame.width}x{frame.height}, not "
                             f"{src.width}x{src.height} like the sequence's first frame")
        out.append(_av_frame_to_rgb(frame, win))
    return torch.stack(out, dim=1)
