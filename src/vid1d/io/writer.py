"""The writer interface every output format implements.

Outputs are atomic: frames go to a temporary sibling of the target (via
:func:`vid1d.utils.fs.atomic_path`) which is renamed onto the target only when
:meth:`VideoWriter.close` succeeds. Leaving the ``with`` block by an exception, or
calling :meth:`VideoWriter.abort`, removes the temporary; nothing is left behind.

Float frames become integer samples with :func:`vid1d.io.color.quantize`: clamp to
[0, 1], scale by 2^n - 1, ``torch.round``. RGB written to a Y'CbCr format goes
through :func:`vid1d.io.color.rgb_to_planes` (matrix and range of the writer,
2x2 box-average 4:2:0 chroma).
"""

from __future__ import annotations

import abc
import contextlib
import fractions
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from vid1d.errors import InputError
from vid1d.io.color import matrix_name, quantize, rgb_to_planes
from vid1d.io.info import PlanarFormat, check_frame_size, to_fraction
from vid1d.utils.fs import atomic_path


class _Aborted(Exception):
    """Thrown into atomic_path to make it discard the temporary output."""


def _check_float(x: torch.Tensor, path: Path) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        kind = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise InputError(f"{path}: frames must be float tensors in [0, 1], got {kind}")


class VideoWriter(abc.ABC):
    """Writes frames to ``path``; the file (or folder) appears only on successful close.

    ``planar`` is the Y'CbCr sample format of the output, or None for RGB outputs
    (PNG folders, lossless RGB video).
    """

    planar: PlanarFormat | None
    replaceable: str | None = None  # folder outputs: glob of the files an existing folder may hold

    def __init__(self, path: str | os.PathLike, *, width: int, height: int,
                 fps: float | fractions.Fraction, planar: PlanarFormat | None,
                 matrix: str = "bt709", full_range: bool = False, is_dir: bool = False) -> None:
        check_frame_size(width, height, chroma=planar.chroma if planar else None, what=str(path))
        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        self.fps = to_fraction(fps)
        self.planar = planar
        self.matrix = matrix_name(matrix)
        self.full_range = bool(full_range)
        self.frames_written = 0
        self._done = False
        self._stack = contextlib.ExitStack()
        self._tmp = self._stack.enter_context(
            atomic_path(self.path, is_dir=is_dir, replaceable=self.replaceable))
        try:
            self._open(self._tmp)
        except BaseException as e:
            self._discard(e)
            raise

    # --- implemented by formats --------------------------------------------------
    @abc.abstractmethod
    def _open(self, tmp: Path) -> None:
        """Start writing into the temporary path."""

    def _write_planes(self, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        """Integer planes (T, H, W), (T, h, w), (T, h, w) of :attr:`planar`."""
        raise NotImplementedError

    def _write_rgb(self, rgb: np.ndarray) -> None:
        """(T, H, W, 3) uint8 RGB (only for ``planar is None``)."""
        raise NotImplementedError

    _file = None  # an open file object formats may set in _open; closed by the defaults below

    def _finish(self) -> None:
        """Flush and close the temporary output (before the rename)."""
        if self._file is not None:
            self._file.close()

    def _release(self) -> None:
        """Close handles without finishing (before the temporary is deleted)."""
        if self._file is not None:
            self._file.close()

    # --- public API ---------------------------------------------------------------
    def write(self, chunk: torch.Tensor) -> None:
        """Append RGB frames: (3, T, H, W) (or one frame (3, H, W)) float in [0, 1]."""
        self._check_open()
        _check_float(chunk, self.path)
        if chunk.ndim == 3:
            chunk = chunk.unsqueeze(1)
        if chunk.ndim != 4 or chunk.shape[0] != 3 or tuple(chunk.shape[2:]) != (self.height, self.width):
            raise InputError(
                f"{self.path}: expected RGB frames (3, T, {self.height}, {self.width}), "
                f"got {tuple(chunk.shape)}"
            )
        if chunk.shape[1] == 0:
            return
        chunk = chunk.detach()
        if self.planar is None:
            self._write_rgb(np.ascontiguousarray(quantize(chunk, 8).transpose(1, 2, 3, 0)))
        else:
            fmt = self.planar
            planes = rgb_to_planes(chunk, chroma=fmt.chroma, matrix=self.matrix,
                                   full_range=self.full_range, bit_depth=fmt.bit_depth)
            self._write_planes(*(quantize(p, fmt.bit_depth) for p in planes))
        self.frames_written += chunk.shape[1]

    def write_yuv(self, y: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> None:
        """Append Y'CbCr planes Y (T, H, W), Cb, Cr (T, h, w): floats, code / (2^n - 1)."""
        self._check_open()
        fmt = self.planar
        if fmt is None:
            raise InputError(f"{self.path}: this output is RGB; use write() instead of write_yuv()")
        for p in (y, u, v):
            _check_float(p, self.path)
        if y.ndim == 2:
            y, u, v = y[None], u[None], v[None]
        shapes = fmt.plane_shapes(self.width, self.height)
        got = [tuple(p.shape[1:]) for p in (y, u, v)]
        if got != shapes or y.ndim != 3 or not (y.shape[0] == u.shape[0] == v.shape[0]):
            raise InputError(
                f"{self.path}: expected {fmt.name} planes (T, {shapes[0][0]}, {shapes[0][1]}) and "
                f"(T, {shapes[1][0]}, {shapes[1][1]}), got {[tuple(p.shape) for p in (y, u, v)]}"
            )
        if y.shape[0] == 0:
            return
        self._write_planes(*(quantize(p, fmt.bit_depth) for p in (y, u, v)))
        self.frames_written += y.shape[0]

    def close(self) -> None:
        """Finish the output and move it into place (atomic). Idempotent."""
        if self._done:
            return
        try:
            self._finish()
        except BaseException as e:
            self._discard(e)
            raise
        self._done = True
        self._stack.close()

    def abort(self) -> None:
        """Discard everything written so far; the target path is left untouched."""
        if not self._done:
            self._discard(_Aborted())

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.close()
        else:
            self._discard(exc)

    def __del__(self) -> None:
        if getattr(self, "_done", True):
            return
        warnings.warn(f"VideoWriter for {self.path} was never closed; output discarded",
                      ResourceWarning, stacklevel=2)
        with contextlib.suppress(Exception):
            self.abort()

    # --- internals -----------------------------------------------------------------
    def _check_open(self) -> None:
        if self._done:
            raise ValueError(f"write to a closed VideoWriter ({self.path})")

    def _discard(self, exc: BaseException) -> None:
        if self._done:
            return
        self._done = True
        with contextlib.suppress(Exception):
            self._release()
        # atomic_path removes the temporary and re-raises exc, which we swallow here:
        # the caller is already propagating it (or aborting on purpose).
        with contextlib.suppress(BaseException):
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
