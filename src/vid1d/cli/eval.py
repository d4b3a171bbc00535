"""`vid1d eval IN... --codecs gvc1d-small,x265,vvenc`: RD points, BD-rates, plots, complexity.

Learned codecs (registry ids or checkpoint paths) are run through real .v1d
bitstreams; anything else is a classic codec spec (``x265``, ``x265:veryslow``,
``vvenc:faster``, ...). Every codec codes the same frames with the same intra
period. Results: one RD JSON per (input, codec), a BD-rate table against the
anchor, an RD plot per input and metric, and a complexity table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vid1d.cli.args import add_precision_arg
from vid1d.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="rate-distortion evaluation of learned and classic codecs",
                       description=__doc__.split("\n\n")[1].replace("\n", " "))
    p.add_argument("inputs", nargs="+", help="video files")
    p.add_argument("--codecs", default="gvc1d-small,x265,vvenc:faster",
                   help="comma-separated: model ids/paths and classic codec[:preset]")
    p.add_argument("-o", "--out", default="out/eval", help="output folder")
    p.add_argument("--anchor", default="x265", help="BD-rate anchor codec name (default x265)")
    p.add_argument("--frames", type=int, default=96, help="frames per input (default 96)")
    p.add_argument("--intra-period", type=int, default=-1, help="-1: low delay (default)")
    p.add_argument("--qualities", default=None,
                   help="comma-separated quality indexes for learned codecs (default 5 levels)")
    p.add_argument("--qps", default="32,37,42,47",
                   help="QPs of the classic codecs (default reaches the low rates learned codecs "
                   "target, so curves overlap for BD-rate)")
    p.add_argument("--no-vmaf", action="store_true", help="skip VMAF (faster)")
    p.add_argument("--stlpips", action="store_true",
                   help="also ST-LPIPS alex (perceptual, lower is better): RD points, plot and "
                   "BD columns (weights: 'vid1d weights fetch stlpips-alex')")
    p.add_argument("--device", default="cpu")
    add_precision_arg(p, "coding precision of the learned codecs (see vid1d encode --help)")
    p.set_defaults(func=run)


def low_rate(spec, qps: tuple[int, ...]):
    """The QP list for the codecs that take QPs (x264/x265/VVenC); AV1 keeps its CRF list."""
    import dataclasses

    if spec.codec in ("x264", "x265", "vvenc") and spec.qualities is None:
        return dataclasses.replace(spec, quality_param="qp", qualities=qps)
    return spec


def run(args: argparse.Namespace) -> int:
    from vid1d.baselines import BaselineSpec, GopConfig, get_codec, run_baselines
    from vid1d.eval.learned import load_learned, run_learned
    from vid1d.eval.plot import plot_rd
    from vid1d.eval.rd import bd_table, check_anchor, format_bd_table, write_rd
    from vid1d.models.registry import list_models
    from vid1d.utils.device import check_device

    codecs = [c.strip() for c in args.codecs.split(",") if c.strip()]
    if not codecs:
        raise InputError("--codecs is empty")
    try:
        qualities = ([float(q) for q in args.qualities.split(",")]
                     if args.qualities else None)
        qps = tuple(int(q) for q in args.qps.split(","))
    except ValueError:
        raise InputError("--qualities and --qps must be comma-separated numbers") from None
    if args.frames < 1:
        raise InputError("--frames must be >= 1")
    config = "low-delay" if args.intra_period == -1 else "random-access"
    classic_intra = None if args.intra_period == -1 else args.intra_period
    gop = GopConfig.make(config, classic_intra)
    check_device(args.device)
    models = list_models()
    learned = [c for c in codecs if c in models or c.endswith((".json", ".safetensors"))]
    classic = [c for c in codecs if c not in learned]
    specs = [low_rate(BaselineSpec.parse(c), qps) for c in classic]
    # Every option is checked before the first encode, so a bad one leaves no output behind.
    runs = []  # the codec records (name, label) the RD files will carry
    for model in learned:
        _, ckpt, _ = load_learned(model, qualities, args.device)
        model_id = ckpt.meta.get("id", model)
        runs.append({"name": model_id, "label": model_id})
    for spec in specs:
        codec = get_codec(spec.codec)
        preset = codec.check_preset(spec.preset)
        codec.check_quality(spec.quality_param, spec.qualities)
        codec.check_gop(gop)
        runs.append({"name": codec.name, "label": f"{codec.name} {preset}"})
    check_anchor(args.anchor, runs)
    stems: dict[str, str] = {}
    for inp in args.inputs:  # results are named after the input's stem
        if (other := stems.setdefault(Path(inp).stem, str(inp))) != str(inp):
            raise InputError(f"inputs {other} and {inp} share the name {Path(inp).stem!r}; "
                             "their results would overwrite each other (rename or link one)")
    metrics = (("psnr", "ms_ssim") + (() if args.no_vmaf else ("vmaf",))
               + (("stlpips",) if args.stlpips else ()))
    rd_metrics = ("psnr_rgb",) + metrics[1:]  # their keys in the RD files
    if args.stlpips:
        from vid1d.eval.compare import load_stlpips_metric

        load_stlpips_metric(args.device)  # missing weights fail before the first encode
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rds, complexity = [], []
    for inp in args.inputs:
        name = Path(inp).stem
        per_input = []
        for model in learned:
            rd = run_learned(model, inp, qualities=qualities, frames=args.frames,
                             intra_period=args.intra_period, metrics=metrics, device=args.device,
                             precision=args.precision)
            per_input.append(rd)
            c = rd["complexity"]
            complexity.append((name, rd["codec"]["name"], c["encode_fps"], c["decode_fps"],
                               c["macs_per_pixel"]))
        if specs:
            for rd in run_baselines(inp, specs, frames=args.frames, config=config,
                                    intra_period=classic_intra, metrics=metrics):
                per_input.append(rd)
                pts = rd["points"]
                n = rd["source"]["frames"]
                complexity.append((name, rd["codec"]["label"],
                                   n / (sum(p["encode_seconds"] for p in pts) / len(pts)),
                                   n / (sum(p["decode_seconds"] for p in pts) / len(pts)), None))
        for rd in per_input:
            label = rd["codec"].get("label", rd["codec"]["name"]).replace(" ", "_").replace(":", "_")
            write_rd(rd, out / f"{name}__{label}.json")
        for metric in rd_metrics:
            plot_rd(per_input, out / f"{name}__rd_{metric}.png", metric=metric)
        rds += per_input
    table = format_bd_table(bd_table(rds, anchor=args.anchor, metrics=rd_metrics))
    lines = ["| input | codec | encode fps | decode fps | MAC/pixel |", "|---|---|---|---|---|"]
    lines += [f"| {i} | {c} | {e:.2f} | {d:.2f} | {'' if m is None else f'{m:,.0f}'} |"
              for i, c, e, d, m in complexity]
    report = f"## BD-rate vs {args.anchor}\n\n{table}\n## Complexity\n\n" + "\n".join(lines) + "\n"
    (out / "report.md").write_text(report)
    print(report)
    print(f"results in {out}/")
    return 0
