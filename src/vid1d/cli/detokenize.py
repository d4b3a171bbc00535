"""`vid1d detokenize TOKENS -o REC.mp4`: decode One-DVA tokens with the diffusion decoder."""

from __future__ import annotations

import argparse

from vid1d.cli.args import positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detokenize", help="decode One-DVA latent tokens into a video",
                       description="Decode a token file written by `vid1d tokenize`: Euler "
                       "sampling of the pixel-space flow decoder from seeded noise, clip by clip.")
    p.add_argument("input", help="token file (.safetensors from vid1d tokenize)")
    p.add_argument("-o", "--output", required=True,
                   help="output video: .mp4/.mkv (lossless), .y4m, .yuv, or a folder/ for PNGs")
    p.add_argument("--steps", type=positive_int, default=1, help="Euler sampling steps (default 1)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("--model", default=None,
                   help="registry id or checkpoint path (default: the one named in the file)")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vid1d.models.registry import load_model
    from vid1d.tokenizer import detokenize_video, read_token_meta

    meta = read_token_meta(args.input)
    model, _ = load_model(args.model or meta["model"], device=args.device)
    kw = {"lossless": True} if str(args.output).lower().endswith((".mp4", ".mkv")) else {}
    rep = detokenize_video(model, args.input, args.output, steps=args.steps, seed=args.seed,
                           device=args.device, **kw)
    print(f"{args.output}: {rep.frames} frames {rep.width}x{rep.height} from {rep.clips} clips "
          f"({args.steps} steps, {rep.seconds:.1f} s)")
    return 0
