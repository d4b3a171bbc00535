"""`vid1d plot A.json B.json ... -o rd.png`: rate-distortion plot of RD files."""

from __future__ import annotations

import argparse

from vid1d.eval.rd import QUALITY_KEYS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plot",
        help="plot RD JSON files (quality vs bits per pixel) to a PNG",
        description="One curve per RD file (all on the same source), quality against bpp.",
    )
    p.add_argument("files", nargs="+", help="vid1d.rd/1 JSON files")
    p.add_argument("-o", "--output", required=True, help="PNG to write")
    p.add_argument(
        "--metric", choices=QUALITY_KEYS, default="psnr_rgb", help="quality axis (default psnr_rgb)"
    )
    p.add_argument("--title", help="plot title (default: source name, size, frames, config)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vid1d.errors import InputError
    from vid1d.eval.plot import plot_rd
    from vid1d.utils.fs import check_not_input

    if not args.output.lower().endswith(".png"):
        raise InputError(f"-o must be a .png file, got {args.output!r}")
    check_not_input(args.output, args.files)
    path = plot_rd(args.files, args.output, metric=args.metric, title=args.title)
    print(f"wrote {path}")
    return 0
