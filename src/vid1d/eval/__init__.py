"""Evaluation: whole-video comparison, rate-distortion files, BD tables, RD plots.

- :func:`compare_videos` -- PSNR (RGB, YUV 6:1:1), MS-SSIM, VMAF of two videos, streamed
- :func:`load_rd`, :func:`write_rd`, :func:`validate_rd` -- ``vid1d.rd/1`` result files
  (``docs/rd_json.md``)
- :func:`bd_table`, :func:`format_bd_table` -- BD-rate / BD-quality against an anchor
- :func:`plot_rd` -- quality-vs-bpp PNG, one curve per file
"""

from vid1d.eval.compare import DEFAULT_METRICS, METRICS, compare_videos
from vid1d.eval.plot import plot_rd
from vid1d.eval.rd import (
    SCHEMA,
    bd_table,
    format_bd_table,
    load_rd,
    rd_label,
    validate_rd,
    write_rd,
)

__all__ = [
    "DEFAULT_METRICS",
    "METRICS",
    "SCHEMA",
    "bd_table",
    "compare_videos",
    "format_bd_table",
    "load_rd",
    "plot_rd",
    "rd_label",
    "validate_rd",
    "write_rd",
]
