"""The reader interface every source implements, and the chunking it shares.

A reader never holds more than one chunk of frames: sources yield frames one at a
time (integer numpy arrays), and :class:`VideoReader` groups them into float
tensors. Each call to :meth:`VideoReader.chunks` starts again at frame 0 with its
own file handle, so a reader can be iterated more than once.
"""

from __future__ import annotations

import abc
import weakref
from collections.abc import Iterator

import numpy as np
import torch
from einops import rearrange

from vid1d.errors import InputError
from vid1d.io.color import planes_to_rgb, quantize, rgb_frames_to_tensor, rgb_to_planes
from vid1d.io.info import PlanarFormat, VideoInfo

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


def _check_counts(chunk_frames: int, max_frames: int | None) -> None:
    if not isinstance(chunk_frames, int) or chunk_frames < 1:
        raise InputError(f"chunk_frames must be a positive integer, got {chunk_frames!r}")
    if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 0):
        raise InputError(f"max_frames must be a non-negative integer, got {max_frames!r}")


class VideoReader(abc.ABC):
    """A video source read in chunks of frames. Use as a context manager.

    Subclasses implement :meth:`_yuv_frames` (integer planes of
    :attr:`yuv_format`) and, when RGB is their native form (PyAV, PNG),
    :meth:`_rgb_frames`. Planar sources convert to RGB with :attr:`matrix`,
    :attr:`full_range` and nearest chroma up-sampling (see :mod:`vid1d.io.color`).
    """

    info: VideoInfo
    yuv_format: PlanarFormat
    matrix: str = "bt709"
    full_range: bool = False
    _rgb_native: bool = False
    _rgb_max: int = 255  # largest sample of _rgb_frames (65535 for rgb48 sources)

    def __init__(self) -> None:
        self._closed = False
        self._iterators: weakref.WeakSet = weakref.WeakSet()

    # --- implemented by sources -------------------------------------------------
    @abc.abstractmethod
    def _yuv_frames(self) -> Iterator[Planes]:
        """Frames from the start as integer planes (Y, Cb, Cr) of :attr:`yuv_format`."""

    def _rgb_frames(self) -> Iterator[np.ndarray]:
        """Frames from the start as (H, W, 3) integer RGB with max :attr:`_rgb_max`."""
        raise NotImplementedError

    # --- public API ---------------------------------------------------------------
    def chunks(self, chunk_frames: int = 16, max_frames: int | None = None) -> Iterator[torch.Tensor]:
        """Yield RGB chunks (3, T, H, W) float32 in [0, 1], T <= chunk_frames."""
        _check_counts(chunk_frames, max_frames)
        self._check_open()
        if self._rgb_native:
            return self._track(self._rgb_chunks(chunk_frames, max_frames))
        return self._track(self._planar_rgb_chunks(chunk_frames, max_frames))

    def yuv_chunks(self, chunk_frames: int = 16, max_frames: int | None = None
                   ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Yield planes Y (T, H, W), Cb, Cr (T, h, w), float32 code values / (2^n - 1)."""
        _check_counts(chunk_frames, max_frames)
        self._check_open()
        return self._track(self._yuv_chunks(chunk_frames, max_frames))

    def read(self, max_frames: int | None = None) -> torch.Tensor:
        """The whole clip (or its first ``max_frames``) as one (3, T, H, W) tensor."""
        parts = list(self.chunks(64, max_frames))
        if not parts:
            return torch.zeros(3, 0, self.info.height, self.info.width)
        return torch.cat(parts, dim=1)

    def close(self) -> None:
        """Close the reader and any iterator still open on it."""
        for it in list(self._iterators):
            it.close()
        self._closed = True

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        i = self.info
        n = "?" if i.num_frames is None else i.num_frames
        return (f"{type(self).__name__}({i.path!r}, {i.width}x{i.height}, {n} frames, "
                f"{i.pix_fmt}, {float(i.fps):.3f} fps)")

    # --- chunking ----------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on a closed VideoReader")

    def _track(self, it: Iterator) -> Iterator:
        self._iterators.add(it)
        return it

    @staticmethod
    def _batches(frames: Iterator, chunk_frames: int, max_frames: int | None) -> Iterator[list]:
        batch: list = []
        n = 0
        try:
            # Check the budget before pulling a frame, so no frame is decoded in vain.
            while max_frames is None or n < max_frames:
                frame = next(frames, None)
                if frame is None:
                    break
                batch.append(frame)
                n += 1
                if len(batch) == chunk_frames:
                    yield batch
                    batch = []
            if batch:
                yield batch
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    def _yuv_chunks(self, chunk_frames: int, max_frames: int | None):
        fmt = self.yuv_format
        for batch in self._batches(self._yuv_frames(), chunk_frames, max_frames):
            yield tuple(
                torch.from_numpy(np.stack([f[i] for f in batch]).astype(np.float32))
                .div_(fmt.max_value)
                for i in range(3)
            )

    def _planar_rgb_chunks(self, chunk_frames: int, max_frames: int | None):
        fmt = self.yuv_format
        for y, u, v in self._yuv_chunks(chunk_frames, max_frames):
            yield planes_to_rgb(y, u, v, chroma=fmt.chroma, matrix=self.matrix,
                                full_range=self.full_range, bit_depth=fmt.bit_depth)

    def _rgb_chunks(self, chunk_frames: int, max_frames: int | None):
        for batch in self._batches(self._rgb_frames(), chunk_frames, max_frames):
            yield rgb_frames_to_tensor(np.stack(batch), self._rgb_max)

    # --- helpers for sources -------------------------------------------------------
    def _read_frame_bytes(self, f, offset: int, nbytes: int, index: int) -> bytes:
        """Read one frame's payload at ``offset`` from an unbuffered file; short = InputError.

        Unbuffered reads see the file as it is now (a file truncated while being read
        is noticed) and cost one system call per frame.
        """
        f.seek(offset)
        parts, got = [], 0
        while got < nbytes:
            part = f.read(nbytes - got)
            if not part:
                raise InputError(f"{self.info.path}: frame {index} is truncated "
                                 f"({got} of {nbytes} bytes)")
            parts.append(part)
            got += len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _yuv_from_rgb_frames(self) -> Iterator[Planes]:
        """Planes for RGB-native sources: vid1d's conversion (reader matrix/range, box 4:2:0)."""
        fmt = self.yuv_format
        for rgb in self._rgb_frames():
            x = torch.from_numpy(rgb.astype(np.float32) / self._rgb_max)
            planes = rgb_to_planes(rearrange(x, "h w c -> c 1 h w"), chroma=fmt.chroma,
                                   matrix=self.matrix, full_range=self.full_range,
                                   bit_depth=fmt.bit_depth)
            yield tuple(quantize(p[0], fmt.bit_depth) for p in planes)

    def _check_sample_range(self, planes: Planes, index: int) -> None:
        """Samples above 2^n - 1 in a >8-bit file mean a wrong pix_fmt; say so."""
        fmt = self.yuv_format
        if fmt.bit_depth > 8:
            top = max(int(p.max()) for p in planes)
            if top > fmt.max_value:
                raise InputError(
                    f"{self.info.path}: frame {index} has sample value {top} > {fmt.max_value} "
                    f"for {fmt.bit_depth}-bit {fmt.name}; wrong pix_fmt?"
                )
