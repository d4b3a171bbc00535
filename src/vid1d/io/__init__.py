"""Video I/O: readers and writers for Y4M, raw YUV, PyAV containers and PNG folders,
colour conversion (BT.709/BT.601/BT.2020, limited/full range, 4:2:0), pad/crop.

Frames are streamed in chunks ``(3, T, H, W)`` float32 RGB in [0, 1], so a long
video never sits in memory. Conventions, in one place:

* Y4M/YUV/PNG -> RGB uses vid1d's conversion (:mod:`vid1d.io.color`): BT.709 limited
  by default (Y4M ``XCOLORRANGE=FULL`` honoured), nearest 4:2:0 up-sampling.
* PyAV sources -> RGB is libswscale's ``rgb24`` conversion following the stream's
  tags (untagged = BT.601 limited), as ffmpeg does (:mod:`vid1d.io.pyav`).
* Writing: 2x2 box-average (centre-sited) 4:2:0, clamp + ``torch.round`` to integer
  samples; outputs appear atomically on close (:mod:`vid1d.io.writer`).

::

    from vid1d.io import open_video, open_writer

    with open_video("BasketballDrive_1920x1080_50.yuv") as src, \\
         open_writer("out.mp4", width=src.info.width, height=src.info.height,
                     fps=src.info.fps, lossless=True) as dst:
        for chunk in src.chunks(16):
            dst.write(chunk)
"""

from vid1d.io.color import (
    downsample_420,
    planes_to_rgb,
    quantize,
    rgb_to_planes,
    rgb_to_ycbcr,
    upsample_420,
    ycbcr_to_rgb,
)
from vid1d.io.dispatch import count_frames, open_video, open_writer, write_video
from vid1d.io.info import MAX_DIM, PLANAR_FORMATS, PlanarFormat, VideoInfo
from vid1d.io.pad import crop, pad_to_multiple
from vid1d.io.reader import VideoReader
from vid1d.io.writer import VideoWriter
from vid1d.io.yuv import parse_yuv_filename

__all__ = [
    "MAX_DIM",
    "PLANAR_FORMATS",
    "PlanarFormat",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "count_frames",
    "crop",
    "downsample_420",
    "open_video",
    "open_writer",
    "pad_to_multiple",
    "parse_yuv_filename",
    "planes_to_rgb",
    "quantize",
    "rgb_to_planes",
    "rgb_to_ycbcr",
    "upsample_420",
    "write_video",
    "ycbcr_to_rgb",
]
