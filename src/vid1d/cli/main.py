"""`vid1d` command-line entry point.

Each subcommand lives in its own module ``vid1d.cli.<name>`` exposing
``add_parser(subparsers)`` (which registers the parser and sets ``func``) .
User errors (:class:`vid1d.Vid1dError`) print one line and exit 2; Ctrl-C exits
130 and SIGTERM 143, both after the atomic outputs have removed their temporaries;
anything else is a bug and keeps its traceback (``VID1D_DEBUG=1`` shows
tracebacks for user errors too).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from vid1d import __version__
from vid1d.errors import Vid1dError
from vid1d.utils.progress import close_all

# Order is the order shown in --help.
SUBCOMMANDS = ["encode", "decode", "tokenize", "detokenize", "info", "metrics", "baseline",
               "bdrate", "plot", "eval", "explain", "train", "export", "data", "weights", "demo"]


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



class _Terminated(BaseException):
    """SIGTERM as an exception, so that ``finally`` blocks and atomic outputs clean up
    (the default action kills the process where it stands, leaving temporaries)."""


_MAIN_PID = os.getpid()


def _on_sigterm(signum, frame) -> None:
    if os.getpid() != _MAIN_PID:  # a forked worker (data loading): die as by default
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    raise _Terminated


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured)
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    global _MAIN_PID
    _MAIN_PID = os.getpid()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        rc = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the flush at exit
    except _Terminated:
        close_all()
        print("vid1d: terminated", file=sys.stderr)
        return 143
    except Vid1dError as e:
        if os.environ.get("VID1D_DEBUG"):
            raise
        close_all()
        print(f"vid1d {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        close_all()
        print("vid1d: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout's reader went away (`vid1d info X | head -1`): stop quietly, with the
        # status a shell gives a process killed by SIGPIPE (Python ignores the signal).
        close_all()
        _silence_stdout()
        return 141
    finally:
        signal.signal(signal.SIGTERM, previous)
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
