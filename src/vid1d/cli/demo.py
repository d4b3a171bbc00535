"""`vid1d demo`: the README's first command.

On the bundled sample clip (carphone, 176x144): the bundled GVC1D model (when
installed) encodes and decodes the clip through real .v1d files at several
qualities; x265 and VVenC code the same frames; the demo prints bpp / PSNR /
MS-SSIM / VMAF (and ST-LPIPS, once ``vid1d weights fetch stlpips-alex`` has been
run) of GVC1D next to x265 at the closest rate, and writes RD JSON, RD plots (PNG), a
BD-rate table and a side-by-side frame (PNG).
"""

from __future__ import annotations

import argparse
from pathlib import Path

LOW_RATE_QPS = (32, 37, 42, 47)
DEFAULT_MODEL = "gvc1d-small"
SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "carphone_pristine.mp4"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the demo on the bundled sample clip",
                       description="Code the bundled sample clip with the learned codec (when a "
                       "bundled model is installed) and with x265 and VVenC; write RD JSON, an RD "
                       "plot PNG, a BD-rate table and a side-by-side frame.")
    p.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    p.add_argument("--input", default=str(SAMPLE), help="video to use (default: bundled sample)")
    p.add_argument("--frames", type=int, default=16, help="frames to code (default 16)")
    p.add_argument("--model", help=f"learned codec model id (default {DEFAULT_MODEL}, "
                   "skipped when it is not installed)")
    p.add_argument("--no-learned", action="store_true", help="only the classic codecs")
    p.set_defaults(func=run)


def _line(label: str, p: dict) -> str:
    st = f"  ST-LPIPS {p['stlpips']:.4f}" if p.get("stlpips") is not None else ""
    return (f"  {label:<24} {p['bpp']:.4f} bpp  PSNR {p['psnr_rgb']:6.2f} dB  "
            f"MS-SSIM {p['ms_ssim']:.4f}  VMAF {p['vmaf']:5.1f}{st}")


def _first_frame(path):
    """Frame 0 (3, H, W) of a video file, or of a .v1d stream decoded with its model."""
    from vid1d.codec import decode_video
    from vid1d.io import open_video

    if str(path).endswith(".v1d"):
        got = []
        decode_video(path, None, on_frame=lambda t, x: got.append(x[0]) if t == 0 else None)
        return got[0]
    with open_video(path) as r:
        return r.read(1)[:, 0]


def run(args: argparse.Namespace) -> int:
    from vid1d.baselines import BaselineSpec, run_baselines
    from vid1d.errors import InputError
    from vid1d.eval.compare import DEFAULT_METRICS
    from vid1d.eval.learned import LEARNED_METRICS, load_learned, run_learned, side_by_side
    from vid1d.eval.plot import plot_rd
    from vid1d.eval.rd import bd_table, format_bd_table, write_rd
    from vid1d.metrics import resolve_weights
    from vid1d.models.registry import list_models
    from vid1d.utils.fs import atomic_write_text, make_folder

    if args.frames < 1:
        raise InputError("--frames must be >= 1")
    if args.no_learned and args.model is not None:
        raise InputError("--model and --no-learned exclude each other")
    if not Path(args.input).exists():
        raise InputError(f"{args.input}: no such file or directory")
    installed = list_models()
    if args.model is None and not args.no_learned and DEFAULT_MODEL not in installed:
        # Only the default may be missing; a model the user names must exist.
        print(f"(model {DEFAULT_MODEL!r} is not installed: showing the classic codecs only)")
        args.no_learned = True
    learned = not args.no_learned
    args.model = args.model or DEFAULT_MODEL
    if learned and args.model not in installed:
        raise InputError(f"unknown model id {args.model!r} (installed: "
                         f"{', '.join(installed) or 'none'})")
    if learned:
        load_learned(args.model)  # unknown or not a codec: fails here, before any coding
    try:  # ST-LPIPS too, where its weights have been fetched
        resolve_weights(None, "stlpips")
        perceptual: tuple[str, ...] = ("stlpips",)
    except InputError:
        perceptual = ()
        print("(ST-LPIPS not measured: 'vid1d weights fetch stlpips-alex' adds it)")
    out = make_folder(args.out, "--out")
    rds: dict[str, dict] = {}
    # QPs reaching down to GVC1D's low rates, so the curves overlap for BD-rate.
    specs = [BaselineSpec("x265", "medium", "qp", LOW_RATE_QPS),
             BaselineSpec("vvenc", "faster", "qp", LOW_RATE_QPS)]
    for rd in run_baselines(args.input, specs, frames=args.frames, config="low-delay",
                            keep_dir=out / "bitstreams", metrics=DEFAULT_METRICS + perceptual):
        rds[rd["codec"]["name"]] = rd
    if learned:
        rds[args.model] = run_learned(args.model, args.input, frames=args.frames,
                                      keep_dir=out / "bitstreams", complexity=False,
                                      metrics=LEARNED_METRICS + perceptual)
    for name, rd in rds.items():
        write_rd(rd, out / f"rd_{name}.json")
    rd_metrics = ("psnr_rgb", "ms_ssim", "vmaf") + perceptual
    for metric in rd_metrics:
        print(f"wrote {plot_rd(list(rds.values()), out / f'rd_{metric}.png', metric=metric)}")
    table = format_bd_table(bd_table(list(rds.values()), anchor="x265", metrics=rd_metrics))
    atomic_write_text(out / "bdrate.md", table)
    print(f"BD-rate vs x265 (negative = fewer bits for the same quality):\n{table}")
    for rd in rds.values():
        print(rd["codec"].get("label", rd["codec"]["name"]))
        for p in rd["points"]:
            print(_line(f"{p['quality']['param']}={p['quality']['value']}", p))
    if learned:
        # GVC1D's middle point next to the x265 point of the closest rate, and their frames
        mid = rds[args.model]["points"][len(rds[args.model]["points"]) // 2]
        x265 = min(rds["x265"]["points"], key=lambda p: abs(p["bpp"] - mid["bpp"]))
        print("matched rate:")
        print(_line(args.model, mid))
        print(_line(f"x265 qp={x265['quality']['value']}", x265))
        frames = [_first_frame(p) for p in (args.input, mid["bitstream"], x265["bitstream"])]
        png = side_by_side(out / "side_by_side.png", frames, [
            "original", f"{args.model} {mid['bpp']:.3f} bpp {mid['psnr_rgb']:.2f} dB",
            f"x265 {x265['bpp']:.3f} bpp {x265['psnr_rgb']:.2f} dB"])
        print(f"wrote {png}")
    print(f"results in {out}/")
    return 0
