"""Rate-distortion plots: one curve per RD file, quality against bits per pixel.

Uses matplotlib's Agg backend through its object API (no pyplot global state), so
it runs headless and from threads; the PNG is written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from vid1d.errors import InputError
from vid1d.eval.rd import (
    QUALITY_KEYS,
    curve,
    load_rd,
    rd_label,
    source_key,
    source_name,
    validate_rd,
)
from vid1d.utils.fs import atomic_path

AXIS_LABELS = {
    "psnr_rgb": "PSNR RGB (dB)",
    "psnr_y": "PSNR Y (dB)",
    "psnr_u": "PSNR U (dB)",
    "psnr_v": "PSNR V (dB)",
    "psnr_yuv": "PSNR YUV 6:1:1 (dB)",
    "ssim": "SSIM (RGB)",
    "ms_ssim": "MS-SSIM (RGB)",
    "vmaf": "VMAF (vmaf_v0.6.1)",
    "stlpips": "ST-LPIPS alex (lower is better)",
}
_MARKERS = "osD^v<>ph*"


def plot_rd(
    rd_files: Iterable[str | os.PathLike | dict],
    out_png: str | os.PathLike,
    metric: str = "psnr_rgb",
    *,
    title: str | None = None,
    dpi: int = 150,
) -> Path:
    """Plot ``metric`` against bpp for each RD file (all on the same source) into a PNG.

    The title names the source, its size and frame count, and the configuration(s).
    Raises InputError if the files are for different sources or lack the metric.
    """
    if metric not in QUALITY_KEYS:
        raise InputError(f"unknown metric {metric!r} (choose from {', '.join(QUALITY_KEYS)})")
    rds = [load_rd(f) if isinstance(f, str | os.PathLike) else validate_rd(f) for f in rd_files]
    if not rds:
        raise InputError("no RD files to plot")
    if len({source_key(rd) for rd in rds}) > 1:
        names = ", ".join(
            sorted({f"{source_name(rd)} ({rd['source']['frames']} frames)" for rd in rds})
        )
        raise InputError(f"RD files are for different sources or frame counts: {names}")
    curves = []
    for rd in rds:
        rates, values = curve(rd, metric)
        order = sorted(range(len(rates)), key=rates.__getitem__)
        curves.append((rd_label(rd), [rates[i] for i in order], [values[i] for i in order]))
    if len({c[0] for c in curves}) < len(curves):  # same label twice: add the config
        curves = [
            (f"{lab} ({rd['codec']['config']})", r, v)
            for (lab, r, v), rd in zip(curves, rds, strict=True)
        ]

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, (label, rates, values) in enumerate(curves):
        ax.plot(
            rates,
            values,
            marker=_MARKERS[i % len(_MARKERS)],
            markersize=5,
            linewidth=1.5,
            label=label,
        )
    src = rds[0]["source"]
    configs = ", ".join(sorted({rd["codec"]["config"] for rd in rds}))
    ax.set_title(
        title
        or f"{source_name(rds[0])}  {src['width']}x{src['height']}, "
        f"{src['frames']} frames, {configs}",
        fontsize=10,
    )
    ax.set_xlabel("rate (bits per pixel)")
    ax.set_ylabel(AXIS_LABELS[metric])
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    out_png = Path(out_png)
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return out_png
