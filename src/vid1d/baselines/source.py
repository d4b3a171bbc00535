"""The one source file every classic encoder reads: the first N frames as 8-bit 4:2:0 Y4M.

Converting once means every codec (and the metrics) sees exactly the same samples.
A ``yuv420p`` input is copied plane by plane, bit-exactly; anything else (10-bit,
4:4:4, RGB, PNG frames) goes through RGB and vid1d's own 4:2:0 conversion with the
input's colour matrix and range, which are recorded so that RGB metrics later
convert back the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vid1d.errors import InputError
from vid1d.eval.compare import chunk_frames_for, rgb_conversion
from vid1d.eval.provenance import source_hash
from vid1d.io import open_video, open_writer

CODED_PIX_FMT = "yuv420p"


@dataclass(frozen=True)
class PreparedSource:
    """The converted source and what the RD file says about the original.

    Attributes:
        y4m: the temporary 8-bit 4:2:0 Y4M holding exactly ``frames`` frames.
        record: the RD JSON ``source`` object.
        matrix, full_range: the input's Y'CbCr -> RGB conversion (for RGB metrics).
    """

    y4m: Path
    record: dict
    matrix: str
    full_range: bool

    @property
    def frames(self) -> int:
        return self.record["frames"]


def prepare_source(
    path: str | os.PathLike,
    out_y4m: str | os.PathLike,
    *,
    frames: int | None = None,
    size: tuple[int, int] | None = None,
    pix_fmt: str | None = None,
    fps: float | None = None,
) -> PreparedSource:
    """Write the first ``frames`` frames of ``path`` (all if None) to ``out_y4m``.

    ``size``/``pix_fmt``/``fps`` describe raw ``.yuv`` inputs (see
    :func:`vid1d.io.open_video`). InputError if the input has fewer frames than asked.
    """
    if frames is not None and (
        isinstance(frames, bool) or not isinstance(frames, int) or frames < 1
    ):
        raise InputError(f"frames must be a positive integer, got {frames!r}")
    path = Path(path)
    with open_video(path, size=size, pix_fmt=pix_fmt, fps=fps) as reader:
        info = reader.info
        if info.width % 2 or info.height % 2:
            raise InputError(
                f"{path}: {info.width}x{info.height} has an odd side; the classic codecs code "
                f"{CODED_PIX_FMT}, which needs even width and height (crop or pad it first)"
            )
        matrix, full_range = rgb_conversion(reader)
        chunk = chunk_frames_for(info.width, info.height)
        exact_copy = info.pix_fmt == CODED_PIX_FMT
        with open_writer(
            out_y4m,
            width=info.width,
            height=info.height,
            fps=info.fps,
            format="y4m",
            pix_fmt=CODED_PIX_FMT,
            matrix=matrix,
            full_range=full_range,
        ) as writer:
            if exact_copy:
                for y, u, v in reader.yuv_chunks(chunk, frames):
                    writer.write_yuv(y, u, v)
            else:
                for rgb in reader.chunks(chunk, frames):
                    writer.write(rgb)
            written = writer.frames_written
            if written == 0:
                raise InputError(f"{path}: no frames")
            if frames is not None and written < frames:
                raise InputError(f"{path}: has only {written} frames, {frames} requested")
    digest, hashed = source_hash(path)
    record = {
        "path": str(path),
        "name": path.name,
        "sha256": digest,
        "sha256_bytes": hashed,
        "width": info.width,
        "height": info.height,
        "frames": written,
        "fps": float(info.fps),
        "fps_fraction": f"{info.fps.numerator}/{info.fps.denominator}",
        "pix_fmt": info.pix_fmt,
        "coded_pix_fmt": CODED_PIX_FMT,
        "matrix": matrix,
        "full_range": full_range,
    }
    return PreparedSource(Path(out_y4m), record, matrix, full_range)
