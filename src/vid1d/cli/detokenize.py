"""`vid1d detokenize TOKENS -o REC.mp4`: decode One-DVA tokens with the diffusion decoder."""

from __future__ import annotations

import argparse

from vid1d.cli.args import positive_int
from vid1d.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detokenize", help="decode One-DVA latent tokens into a video",
                       description="Decode a token file written by `vid1d tokenize`: Euler "
                       "sampling of the pixel-space flow decoder from seeded noise, clip by clip.")
    p.add_argument("input", help="token file (.safetensors from vid1d tokenize)")
    p.add_argument("-o", "--output", required=True,
                   help="output video: .mp4/.mkv (lossless), .y4m, .yuv, or a folder/ for PNGs")
    p.add_argument("--steps", type=positive_int, default=1, help="Euler sampling steps (default 1)")
    p.add_argument("--seed", default="0", help="noise seed in [0, 2**63) (default 0)")
    p.add_argument("--model", default=None,
                   help="registry id or checkpoint path (default: the one named in the file)")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.set_defaults(func=run)


def parse_seed(text: str) -> int:
    """``--seed`` as an int in [0, 2**63), checked here rather than by argparse so that a bad
    one is a one-line error like every other, not a usage dump or torch's overflow traceback."""
    from vid1d.tokenizer import MAX_SEED

    try:
        seed = int(text) if len(text) <= 25 else -1
    except ValueError:
        raise InputError(f"--seed must be an integer, got {text[:25]!r}") from None
    if not 0 <= seed < MAX_SEED:
        raise InputError(f"--seed must be in [0, 2**63), got {text[:25]}")
    return seed


def run(args: argparse.Namespace) -> int:
    from vid1d.models.registry import load_model
    from vid1d.tokenizer import detokenize_video, read_token_meta

    seed = parse_seed(args.seed)
    meta = read_token_meta(args.input)
    model, ckpt = load_model(args.model or meta["model"], device=args.device)
    if ckpt.meta.get("type") != "onedva":
        raise InputError(f"{args.model or meta['model']!r} is a {ckpt.meta.get('type')!r} model, "
                         "not a One-DVA tokenizer")
    kw = {"lossless": True} if str(args.output).lower().endswith((".mp4", ".mkv")) else {}
    rep = detokenize_video(model, args.input, args.output, steps=args.steps, seed=seed,
                           device=args.device, meta=meta, **kw)
    print(f"{args.output}: {rep.frames} frames {rep.width}x{rep.height} from {rep.clips} clips "
          f"({args.steps} steps, {rep.seconds:.1f} s)")
    return 0
