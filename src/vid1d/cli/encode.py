"""`vid1d encode IN -o OUT.v1d`: code a video with a learned codec (default gvc1d-small)."""

from __future__ import annotations

import argparse
import math

from vid1d.cli.args import add_precision_arg, parse_size
from vid1d.errors import InputError

DEFAULT_MODEL = "gvc1d-small"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("encode", help="encode a video into a .v1d bitstream",
                       description="Encode a video with a learned codec into a .v1d bitstream "
                       "(low delay; frames are coded as they are read).")
    p.add_argument("input", help="video file (mp4/mkv/avi/y4m/yuv/PNG folder ...)")
    p.add_argument("-o", "--output", required=True, help="output .v1d file (written atomically)")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"registry id or checkpoint path (default {DEFAULT_MODEL})")
    q = p.add_mutually_exclusive_group()
    q.add_argument("--quality", type=float, default=None,
                   help="quality index in [0, levels-1]; fractional values interpolate "
                   "(default: the middle of the range)")
    q.add_argument("--lambda", dest="lmbda", type=float, default=None,
                   help="rate-distortion λ (mapped to the nearest quality, log-linearly)")
    p.add_argument("--intra-period", type=int, default=-1,
                   help="intra frame every N frames; -1: only the first (default)")
    p.add_argument("--frames", type=int, default=None, help="encode only the first N frames")
    p.add_argument("--size", help="WxH for raw .yuv input")
    p.add_argument("--pix-fmt", help="pixel format for raw .yuv input")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    add_precision_arg(p, "arithmetic of the coding path, stored in the stream: int (default; "
                   "float64 for a model without an integer path) decodes on any machine by "
                   "construction; float64 decodes 1.5-2.5x faster on a CPU and is very likely "
                   "portable; float32 is ~3x faster again and decodes only on the kind of "
                   "device that encoded (CPU vs CUDA)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vid1d.codec import check_quality, encode_video, load_codec

    if args.frames is not None and args.frames < 1:
        raise InputError("--frames must be >= 1")
    model, ckpt = load_codec(args.model, device=args.device)
    if args.lmbda is not None:
        if not (args.lmbda > 0 and math.isfinite(args.lmbda)):
            raise InputError("--lambda must be a positive number")
        quality = model.quality_for_lmbda(args.lmbda)  # clamped to the trained range
    elif args.quality is None:
        quality = (model.cfg.num_lmbdas - 1) / 2
    else:
        quality = check_quality(model, args.quality, "--quality")
    open_kw = {"size": parse_size(args.size), "pix_fmt": args.pix_fmt}
    report = encode_video(model, args.input, args.output, model_id=ckpt.meta.get("id", args.model),
                          quality=quality, intra_period=args.intra_period, max_frames=args.frames,
                          device=args.device, precision=args.precision, **open_kw)
    print(f"{args.output}: {report.frames} frames {report.width}x{report.height}, "
          f"{report.file_bytes} bytes, {report.bpp:.4f} bpp (estimate {report.estimated_bpp:.4f}), "
          f"PSNR {sum(report.psnr) / len(report.psnr):.2f} dB, {report.fps:.2f} fps")
    return 0
