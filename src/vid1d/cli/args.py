"""Argument parsing shared by the subcommands."""

from __future__ import annotations

import argparse

from vid1d.errors import InputError

# vid1d.codec.PRECISIONS, default first (None on the command line: int where the model
# has an integer coding path, else float64), named here so that parsing does not import torch
PRECISION_CHOICES = ("int", "float64", "float32")


def add_precision_arg(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--precision", choices=PRECISION_CHOICES, default=None, help=help)


def parse_size(text: str | None, flag: str = "--size") -> tuple[int, int] | None:
    """``"1920x1080"`` -> ``(1920, 1080)``; None stays None."""
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"{flag} must look like 1920x1080, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise InputError(f"{flag} must be positive, got {text!r}")
    return w, h


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v
