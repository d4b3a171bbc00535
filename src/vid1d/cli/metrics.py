"""`vid1d metrics REF DIST`: PSNR (RGB, YUV 6:1:1), MS-SSIM, VMAF (and ST-LPIPS) of a whole video."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

from vid1d.cli.args import parse_size, positive_int
from vid1d.errors import InputError


def add_raw_video_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--size", metavar="WxH", help="frame size of raw .yuv input")
    p.add_argument(
        "--pix-fmt",
        metavar="F",
        help="pixel format of raw .yuv input (yuv420p, yuv420p10le, yuv444p, ...)",
    )
    p.add_argument(
        "--fps", type=float, help="frame rate of raw .yuv input (default: from its name, else 30)"
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metrics",
        help="PSNR / MS-SSIM / VMAF of a distorted video against its reference",
        description="Compare two videos frame by frame (streamed, any length): RGB PSNR, "
        "YUV PSNR (Y, U, V and the JVET 6:1:1 average), MS-SSIM, and VMAF (vmaf_v0.6.1). "
        "The videos must have the same size and frame count (or use --frames).",
    )
    p.add_argument("ref", help="reference video")
    p.add_argument("dist", help="distorted (decoded) video")
    p.add_argument(
        "--frames",
        type=positive_int,
        metavar="N",
        help="compare only the first N frames (of the shorter video)",
    )
    add_raw_video_args(p)
    p.add_argument("--no-vmaf", action="store_true", help="skip VMAF (the slowest metric)")
    p.add_argument("--stlpips", action="store_true",
                   help="also ST-LPIPS alex, a perceptual distance (lower is better; weights: "
                   "'vid1d weights fetch stlpips-alex' or $VID1D_STLPIPS_WEIGHTS)")
    p.add_argument("--device", default="cpu", help="device for PSNR/MS-SSIM (cpu, cuda)")
    p.add_argument(
        "--json",
        metavar="OUT",
        help="also write means, per-frame values and metric versions to this JSON file",
    )
    p.set_defaults(func=run)


def format_result(res: dict) -> str:
    m = res["mean"]
    lines = [
        f"{res['distorted']} vs {res['reference']}: {res['frames']} frames, "
        f"{res['width']}x{res['height']}"
    ]
    if "psnr_rgb" in m:
        lines.append(f"  PSNR RGB   {m['psnr_rgb']:8.3f} dB")
    if "psnr_yuv" in m:
        lines.append(
            f"  PSNR YUV   {m['psnr_yuv']:8.3f} dB  (Y {m['psnr_y']:.3f}, "
            f"U {m['psnr_u']:.3f}, V {m['psnr_v']:.3f}; 6:1:1)"
        )
    if "ms_ssim" in m:
        lines.append(f"  MS-SSIM    {m['ms_ssim']:8.5f}")
    if "vmaf" in m:
        lines.append(f"  VMAF       {m['vmaf']:8.3f}")
    if "stlpips" in m:
        lines.append(f"  ST-LPIPS   {m['stlpips']:8.5f}  (alex; lower is better)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from vid1d.eval.compare import compare_videos
    from vid1d.utils.fs import atomic_path, check_not_input

    metrics = (["psnr", "psnr_yuv", "ms_ssim"] + ([] if args.no_vmaf else ["vmaf"])
               + (["stlpips"] if args.stlpips else []))
    if args.json:
        check_not_input(args.json, [args.ref, args.dist])
    for path in (args.ref, args.dist):
        if not Path(path).exists():
            raise InputError(f"{path}: no such file")
    with contextlib.ExitStack() as stack:
        # Opened first, so that a --json path that cannot be written fails before the work.
        tmp = stack.enter_context(atomic_path(args.json)) if args.json else None
        res = compare_videos(
            args.ref,
            args.dist,
            metrics=metrics,
            max_frames=args.frames,
            size=parse_size(args.size),
            pix_fmt=args.pix_fmt,
            fps=args.fps,
            device=args.device,
        )
        print(format_result(res))
        if tmp is not None:
            tmp.write_text(json.dumps(res, indent=1) + "\n")
    return 0
