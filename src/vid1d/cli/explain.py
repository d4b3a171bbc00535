"""`vid1d explain IN -o OUT.png`: GVC1D's 1D-token attention outflow (§3.3) as a picture."""

from __future__ import annotations

import argparse

from vid1d.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="visualise where GVC1D's 1D tokens attend (PNG)",
                       description="Run a GVC1D model on a few frames and draw the attention "
                       "outflow of its 1D latent tokens in the last decoder layer "
                       "(papers/gvc1d.txt §3.3, Fig. 4-5).")
    p.add_argument("input", help="video file")
    p.add_argument("-o", "--output", required=True, help="output PNG")
    p.add_argument("--model", default="gvc1d-small", help="registry id or checkpoint path")
    p.add_argument("--frames", type=int, default=3, help="number of frames (default 3)")
    p.add_argument("--start", type=int, default=0, help="first frame")
    p.add_argument("--crop", type=int, default=256,
                   help="centre crop (pixels per side) to bound the attention map's size")
    p.add_argument("--quality", type=float, default=None, help="quality index (default: highest)")
    p.add_argument("--tokens", default="0,1,2,3", help="comma-separated token ids to draw")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vid1d.codec import check_quality
    from vid1d.io import open_video
    from vid1d.models.gvc1d.analysis import plot_outflow, token_attention_maps
    from vid1d.models.registry import load_model
    from vid1d.utils.fs import check_not_input

    if args.frames < 1 or args.start < 0 or args.crop < 1:
        raise InputError("--frames and --crop must be >= 1 and --start >= 0")
    check_not_input(args.output, [args.input])
    try:
        tokens = [int(t) for t in args.tokens.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"--tokens must be comma-separated integers, got {args.tokens!r}") from None
    if not tokens:
        raise InputError(f"--tokens names no token, got {args.tokens!r}")
    model, _ = load_model(args.model)
    if getattr(model, "model_type", "") != "gvc1d":
        raise InputError(f"{args.model} is not a GVC1D model")
    quality = (model.cfg.num_lmbdas - 1.0 if args.quality is None
               else check_quality(model, args.quality, "--quality"))
    with open_video(args.input) as reader:
        clip = reader.read(args.start + args.frames)[:, args.start :]  # (3, T, H, W)
    if clip.shape[1] == 0:
        raise InputError(f"{args.input}: fewer than {args.start + 1} frames")
    H, W = clip.shape[-2:]
    ch, cw = min(H, args.crop), min(W, args.crop)
    top, left = (H - ch) // 2, (W - cw) // 2
    clip = clip[..., top : top + ch, left : left + cw]
    maps, _ = token_attention_maps(model, clip[None], quality)
    bad = [t for t in tokens if not 0 <= t < maps.shape[1]]
    if bad:
        raise InputError(f"token ids {bad} out of range [0, {maps.shape[1]})")
    plot_outflow(clip.transpose(0, 1), maps, model.cfg.patch, args.output, tokens=tokens)
    print(f"{args.output}: outflow of {maps.shape[1]} tokens over {clip.shape[1]} frames "
          f"({cw}x{ch} crop)")
    return 0
