"""`vid1d decode IN.v1d -o OUT`: decode a .v1d bitstream to mp4/mkv/y4m/yuv/PNG folder."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decode", help="decode a .v1d bitstream into a video",
                       description="Decode a .v1d bitstream. The model named in its header is "
                       "loaded from the registry (its weights must match the header's hash).")
    p.add_argument("input", help=".v1d bitstream")
    p.add_argument("-o", "--output", required=True,
                   help="output video: .mp4/.mkv (lossless by default), .y4m, .yuv, or a folder/ "
                   "for PNG frames")
    p.add_argument("--model", default=None, help="override: registry id or checkpoint path")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vid1d.codec import decode_video, load_codec

    model = load_codec(args.model, device=args.device)[0] if args.model else None
    kw = {"lossless": True} if str(args.output).lower().endswith((".mp4", ".mkv")) else {}
    report = decode_video(args.input, args.output, model=model, device=args.device, **kw)
    print(f"{args.output}: {report.frames} frames {report.width}x{report.height} decoded "
          f"({report.fps:.2f} fps)")
    return 0
