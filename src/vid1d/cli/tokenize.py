"""`vid1d tokenize IN -o TOKENS.safetensors`: One-DVA latents of a video, clip by clip."""

from __future__ import annotations

import argparse

from vid1d.cli.args import parse_size, positive_int

DEFAULT_MODEL = "onedva-small"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tokenize", help="encode a video into One-DVA latent tokens",
                       description="Encode a video into One-DVA hybrid latents (structural + "
                       "variable-length 1D), 17-frame clips at a time, into a safetensors file.")
    p.add_argument("input", help="video file (mp4/mkv/avi/y4m/yuv/PNG folder ...)")
    p.add_argument("-o", "--output", required=True, help="output token file (.safetensors)")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"registry id or checkpoint path (default {DEFAULT_MODEL})")
    p.add_argument("--length", default=None,
                   help="1D latent length: 'adaptive' (motion score) or a fraction in [0, 1] "
                   "(default 1: all)")
    p.add_argument("--budget", type=int, default=None, help="at most N 1D latents per clip")
    p.add_argument("--clip-frames", type=positive_int, default=17,
                   help="frames per clip (default 17 = 1 + 4·4)")
    p.add_argument("--frames", type=positive_int, default=None, help="only the first N frames")
    p.add_argument("--resize", metavar="WxH", help="rescale frames first (the small model's "
                   "queries cover up to 112x64 / 64x112 frames)")
    p.add_argument("--size", help="WxH for raw .yuv input")
    p.add_argument("--pix-fmt", help="pixel format for raw .yuv input")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vid1d.models.registry import load_model
    from vid1d.tokenizer import parse_length, tokenize_video

    length = parse_length(args.length, args.budget)
    model, ckpt = load_model(args.model, device=args.device)
    if ckpt.meta.get("type") != "onedva":
        from vid1d.errors import InputError

        raise InputError(f"{args.model} is a {ckpt.meta.get('type')!r} model, not a One-DVA tokenizer")
    rep = tokenize_video(model, args.input, args.output, model_id=ckpt.meta.get("id", str(args.model)),
                         length=length, clip_frames=args.clip_frames, max_frames=args.frames,
                         device=args.device, resize=parse_size(args.resize, "--resize"),
                         size=parse_size(args.size), pix_fmt=args.pix_fmt)
    print(f"{args.output}: {rep.frames} frames {rep.width}x{rep.height} in {rep.clips} clips, "
          f"{rep.tokens_struct} structural + {rep.tokens_1d} 1D latents "
          f"({100 * rep.fraction_1d:.1f}% of the 1D maximum), {rep.seconds:.1f} s")
    return 0
