"""`vid1d weights fetch NAME`: perceptual-metric weights by package name (ST-LPIPS)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    from vid1d.metrics.fetch import SOURCES, default_path

    p = sub.add_parser("weights", help="obtain perceptual-metric weights",
                       description="Manage the weight files of the perceptual metrics.")
    wsub = p.add_subparsers(dest="weights_command", metavar="ACTION")
    wsub.required = True
    f = wsub.add_parser(
        "fetch", help="download ST-LPIPS weights (PyPI wheel stlpips-pytorch) and convert them",
        description="Download the stlpips-pytorch wheel with pip (no install, no code run), "
        "verify the weight file's sha256, and write vid1d's safetensors file. "
        f"stlpips-alex goes to {default_path('stlpips-alex')} by default, where "
        "'vid1d metrics --stlpips' and 'vid1d eval --stlpips' find it.")
    f.add_argument("name", choices=sorted(SOURCES), help="which weights")
    f.add_argument("-o", "--out", default=None, help="output .safetensors (default: the cache)")
    f.add_argument("--force", action="store_true", help="download again even if present")
    f.set_defaults(func=run_fetch)


def run_fetch(args: argparse.Namespace) -> int:
    from vid1d.metrics.fetch import fetch_weights
    from vid1d.metrics.stlpips import STLPIPS

    path = fetch_weights(args.name, args.out, force=args.force)
    model = STLPIPS.from_file(path)  # proves the file loads
    print(f"{path} ({model.version})")
    return 0
