"""`vid1d` command-line entry point.

Each subcommand lives in its own module ``vid1d.cli.<name>`` exposing
``add_parser(subparsers)`` (which registers the parser and sets ``func``) .
User errors (:class:`vid1d.Vid1dError`) print one line and exit 2; Ctrl-C exits
130; anything else is a bug and keeps its traceback (``VID1D_DEBUG=1`` shows
tracebacks for user errors too).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from vid1d import __version__
from vid1d.errors import Vid1dError

# Order is the order shown in --help.
SUBCOMMANDS = ["encode", "decode", "tokenize", "detokenize", "info", "metrics", "baseline",
               "bdrate", "plot", "eval", "explain", "train", "export", "data", "demo"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vid1d",
        description="Compact 1D-latent video representations: codecs, tokenizers, generators.",
    )
    parser.add_argument("--version", action="version", version=f"vid1d {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"vid1d.cli.{name}").add_parser(sub)
    return parser



def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except Vid1dError as e:
        if os.environ.get("VID1D_DEBUG"):
            raise
        print(f"vid1d {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vid1d: interrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
