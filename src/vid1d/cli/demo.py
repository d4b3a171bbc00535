"""`vid1d demo`: the README's first command.

On the bundled sample clip (carphone, 176x144): RD curves of x265 and VVenC (and of
the bundled GVC1D model when it is installed: encode + decode through a real
.v1d file), an RD plot PNG, a BD-rate table and, with GVC1D, a side-by-side frame.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "carphone_pristine.mp4"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the demo on the bundled sample clip",
                       description="Code the bundled sample clip with the learned codec (when a "
                       "bundled model is installed) and with x265 and VVenC; write RD JSON, an RD "
                       "plot PNG, a BD-rate table and a side-by-side frame.")
    p.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    p.add_argument("--input", default=str(SAMPLE), help="video to use (default: bundled sample)")
    p.add_argument("--frames", type=int, default=16, help="frames to code (default 16)")
    p.add_argument("--model", default="gvc1d-small", help="learned codec model id")
    p.add_argument("--no-learned", action="store_true", help="only the classic codecs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vid1d.baselines import run_baselines
    from vid1d.eval.plot import plot_rd
    from vid1d.eval.rd import bd_table, format_bd_table, write_rd
    from vid1d.models.registry import list_models

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rds: dict[str, dict] = {}
    learned = not args.no_learned and args.model in list_models()
    if learned:
        from vid1d.eval.learned import demo_learned

        rds[args.model] = demo_learned(args.model, args.input, out, frames=args.frames)
    elif not args.no_learned:
        print(f"(model {args.model!r} is not installed: showing the classic codecs only)")
    for rd in run_baselines(args.input, ["x265:medium", "vvenc:faster"], frames=args.frames,
                            config="low-delay"):
        rds[rd["codec"]["name"]] = rd
    paths = []
    for name, rd in rds.items():
        paths.append(write_rd(rd, out / f"rd_{name}.json"))
    for metric in ("psnr_rgb", "ms_ssim"):
        png = plot_rd(list(rds.values()), out / f"rd_{metric}.png", metric=metric)
        print(f"wrote {png}")
    anchor = "x265"
    table = format_bd_table(bd_table(list(rds.values()), anchor=anchor,
                                     metrics=("psnr_rgb", "ms_ssim", "vmaf")))
    (out / "bdrate.md").write_text(table)
    print(f"BD-rate vs {anchor} (negative = fewer bits for the same quality):\n{table}")
    for rd in rds.values():
        label = rd["codec"].get("label", rd["codec"]["name"])
        for p in rd["points"]:
            print(f"  {label:<22} bpp {p['bpp']:.4f}  PSNR {p['psnr_rgb']:.2f} dB  "
                  f"MS-SSIM {p['ms_ssim']:.4f}  VMAF {p['vmaf']:.1f}")
    print(f"RD JSON: {', '.join(str(p) for p in paths)}")
    return 0
