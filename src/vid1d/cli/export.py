"""`vid1d export RUN -o NAME`: a training run's weights -> a registry model id."""

from __future__ import annotations

import argparse

from vid1d.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="turn a training run into a model id that load_model/--model accept",
        description="Write the run's EMA weights (default) at its latest checkpoint (or "
        "--step) into the user model folder ($VID1D_MODELS, default ~/.cache/vid1d/models) "
        "as NAME.safetensors + NAME.json, with a model card (data, steps, hardware, "
        "training time, final metrics).")
    p.add_argument("run", metavar="RUN", help="run folder written by vid1d train")
    p.add_argument("-o", "--name", required=True, metavar="NAME", help="model id to create")
    p.add_argument("--step", type=int, help="checkpoint step (default: latest)")
    p.add_argument("--weights", choices=("ema", "model"), default="ema",
                   help="EMA weights (default) or the raw optimizer weights")
    p.add_argument("--dtype", choices=("fp32", "fp16", "bf16"), default="fp32",
                   help="storage precision of the weights (fp16/bf16 halve the file; the "
                   "model is built from the rounded weights, default fp32)")
    p.add_argument("--card", action="append", default=[], metavar="KEY=VALUE",
                   help="extra model-card entries (values in YAML; repeatable)")
    p.add_argument("--dir", metavar="DIR", help="model folder (default: $VID1D_MODELS)")
    p.add_argument("--force", action="store_true", help="replace an existing model id")
    p.set_defaults(func=run)


def parse_card(items: list[str]) -> dict:
    from vid1d.train.run_config import parse_yaml

    card = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--card {item!r} must look like key=value")
        card[key.strip()] = parse_yaml(value, where=f"--card {key}")
    return card


def run(args: argparse.Namespace) -> int:
    from vid1d.train.export import export_run

    path = export_run(args.run, args.name, step=args.step, weights=args.weights,
                      card=parse_card(args.card), models_dir=args.dir, force=args.force,
                      dtype=args.dtype)
    print(f"{args.run} -> model {args.name!r} ({path}); use it as --model {args.name} "
          "or vid1d.models.load_model(name)")
    return 0
