"""`vid1d bdrate A.json B.json ... --anchor x265`: BD-rate table of RD files."""

from __future__ import annotations

import argparse
from pathlib import Path

from vid1d.errors import InputError
from vid1d.eval.rd import QUALITY_KEYS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bdrate",
        help="BD-rate / BD-quality table of RD JSON files against an anchor",
        description="Bjøntegaard deltas (rate in bpp) of every RD curve against the anchor "
        "curve on the same source. Negative BD-rate = fewer bits than the anchor at equal "
        "quality. With several sources, an average row per codec.",
    )
    p.add_argument("files", nargs="+", help="vid1d.rd/1 JSON files (from vid1d baseline / eval)")
    p.add_argument(
        "--anchor", required=True, help='anchor curve: codec name (x265) or label ("x265 veryslow")'
    )
    p.add_argument(
        "--method",
        choices=("pchip", "cubic"),
        default="pchip",
        help="interpolation: pchip (JVET CTC, default) or cubic (VCEG-M33)",
    )
    p.add_argument(
        "--metrics",
        default="psnr_rgb,ms_ssim,vmaf",
        help=f"comma-separated, from {', '.join(QUALITY_KEYS)} (default psnr_rgb,ms_ssim,vmaf)",
    )
    p.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        dest="fmt",
        help="table format (default text)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vid1d.eval.rd import bd_table, format_bd_table

    metrics = list(dict.fromkeys(m.strip() for m in args.metrics.split(",") if m.strip()))
    if not metrics:
        raise InputError(f"--metrics {args.metrics!r} names no metric (choose from "
                         f"{', '.join(QUALITY_KEYS)})")
    seen: dict[Path, str] = {}
    for f in args.files:
        p = Path(f)
        if p.exists() and not p.is_file():  # a FIFO would block the read forever
            raise InputError(f"{f}: not a regular file")
        if p.resolve() in seen:
            raise InputError(f"{f}: given twice (also as {seen[p.resolve()]})")
        seen[p.resolve()] = f
    rows = bd_table(args.files, anchor=args.anchor, metrics=metrics, method=args.method)
    if not rows:
        raise InputError(f"nothing to compare: no RD file besides the anchor {args.anchor!r} "
                         "on any source")
    print(format_bd_table(rows, fmt=args.fmt), end="")
    return 0
