"""`vid1d baseline IN -o OUT.json --codec x265`: RD curve of a classic codec (vid1d.rd/1 JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vid1d.cli.args import parse_size, positive_int
from vid1d.cli.metrics import add_raw_video_args
from vid1d.errors import InputError


def parse_int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers like 22,27,32,37, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("empty list")
    return values


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "baseline",
        help="rate-distortion curve of x264/x265/VVenC/SVT-AV1/libaom",
        description="Encode the first N frames with a classic codec at several quality values, "
        "decode, and measure rate (real bitstream size, bpp) and PSNR/MS-SSIM/VMAF. Writes a "
        "vid1d.rd/1 JSON (docs/rd_json.md). Codecs: x264, x265, vvenc, svtav1, aom; default "
        "quality values: qp 22,27,32,37 (x264/x265/vvenc), crf 27,35,43,51 (svtav1/aom).",
        epilog="Examples: vid1d baseline clip.mp4 -o x265.json --codec x265 --preset veryslow "
        "--frames 96;  vid1d baseline clip.y4m -o results/ --codec x264,x265:veryslow,vvenc:faster",
    )
    p.add_argument("input", help="input video (any format vid1d reads)")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="RD JSON file; with several codecs a directory (one JSON per codec)",
    )
    p.add_argument(
        "--codec",
        default="x265",
        help="codec, or comma-separated codec[:preset] list (default x265)",
    )
    p.add_argument(
        "--preset",
        help="encoder preset (x264/x265: ultrafast..placebo; vvenc: "
        "faster..slower; svtav1: -2..13; aom: cpu-used 0..8)",
    )
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--qp", type=parse_int_list, metavar="Q,...", help="constant QP values")
    rate.add_argument("--crf", type=parse_int_list, metavar="Q,...", help="CRF values")
    p.add_argument(
        "--frames",
        type=positive_int,
        metavar="N",
        help="code the first N frames (default: all; the papers use 96)",
    )
    p.add_argument(
        "--config",
        choices=("low-delay", "random-access"),
        default="low-delay",
        help="low-delay: one intra frame, no B-frames (default); random-access: "
        "intra every --intra-period frames with hierarchical B",
    )
    p.add_argument(
        "--intra-period",
        type=int,
        metavar="N",
        help="frames between intra pictures (default -1 = first only for low-delay, "
        "32 for random-access)",
    )
    add_raw_video_args(p)
    p.add_argument("--no-vmaf", action="store_true", help="skip VMAF")
    p.add_argument(
        "--keep-bitstreams",
        metavar="DIR",
        help="keep every encoded bitstream in DIR (paths recorded in the JSON)",
    )
    p.add_argument("--device", default="cpu", help="device for PSNR/MS-SSIM (cpu, cuda)")
    p.set_defaults(func=run)


def _output_paths(out: Path, rds: list[dict]) -> list[Path]:
    if len(rds) == 1 and out.suffix.lower() == ".json":
        return [out]
    return [
        out / f"{Path(rd['source']['name']).stem}_{rd['codec']['name']}_"
        f"{rd['codec']['preset']}_{rd['codec']['config']}.json"
        for rd in rds
    ]


def run(args: argparse.Namespace) -> int:
    from vid1d.baselines import BaselineSpec, run_baselines
    from vid1d.eval.rd import write_rd
    from vid1d.utils.fs import check_not_input

    if not Path(args.input).exists():
        raise InputError(f"{args.input}: no such file")
    specs = [BaselineSpec.parse(s) for s in args.codec.split(",") if s.strip()]
    if not specs:
        raise InputError("--codec is empty")
    if args.preset is not None:
        if len(specs) > 1:
            raise InputError("--preset applies to one codec; with several write codec:preset")
        specs[0] = BaselineSpec(specs[0].codec, args.preset)
    param, values = ("qp", args.qp) if args.qp else ("crf", args.crf) if args.crf else (None, None)
    specs = [
        BaselineSpec(s.codec, s.preset, param, tuple(values) if values else None) for s in specs
    ]
    out = Path(args.output)
    if len(specs) > 1 and out.suffix.lower() == ".json":
        raise InputError("with several codecs, -o must be a directory")
    check_not_input(out, [args.input])
    metrics = ["psnr", "psnr_yuv", "ms_ssim"] + ([] if args.no_vmaf else ["vmaf"])
    rds = run_baselines(
        args.input,
        specs,
        frames=args.frames,
        config=args.config,
        intra_period=args.intra_period,
        size=parse_size(args.size),
        pix_fmt=args.pix_fmt,
        fps=args.fps,
        metrics=metrics,
        keep_dir=args.keep_bitstreams,
        device=args.device,
    )
    for rd, path in zip(rds, _output_paths(out, rds), strict=True):
        write_rd(rd, path)
        pts = ", ".join(
            f"{p['quality']['param']}{p['quality']['value']}: {p['bpp']:.4f} bpp "
            f"{p['psnr_rgb']:.2f} dB"
            for p in rd["points"]
        )
        print(f"{path}: {rd['codec']['label']} ({rd['codec']['config']}) {pts}")
    return 0
