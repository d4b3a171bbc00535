"""`vid1d weights fetch`: perceptual-metric weights obtained by package name.

ST-LPIPS's official weights ship inside the ``stlpips-pytorch`` wheel on PyPI
(BSD-2-Clause). We download that wheel with pip (``--no-deps``: its code is
never installed or imported), take the one weight file, check it against the
sha256 pinned below, read it with ``torch.load(weights_only=True)`` and write
vid1d's safetensors file (:func:`vid1d.metrics.convert.convert_stlpips`).
LPIPS and DISTS have no such source (their backbones come from a model hub):
their files are built from the official checkpoints with
:func:`vid1d.metrics.convert_weights`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from vid1d.data.fetch import ClipFile, PackageSource, download_package, extract_clips
from vid1d.errors import InputError
from vid1d.metrics.convert import convert_stlpips
from vid1d.metrics.weights import metrics_cache
from vid1d.utils.fs import make_folder

_WHEEL = "stlpips-pytorch==0.0.2"
SOURCES: dict[str, PackageSource] = {
    "stlpips-alex": PackageSource("stlpips-pytorch", "pypi", _WHEEL, (
        ClipFile("stlpips_pytorch/weights/vST0.0/alex_shift_tolerant.pth", "alex_shift_tolerant.pth",
                 "b356b382f96010f77d085ee8343ecd9fd322d0a56e8de2b2d0549fafcad8b9ee"),)),
    "stlpips-vgg": PackageSource("stlpips-pytorch", "pypi", _WHEEL, (
        ClipFile("stlpips_pytorch/weights/vST0.0/vgg_shift_tolerant.pth", "vgg_shift_tolerant.pth",
                 "44597da68f49c1837c100ff52299050f274d102eb102e5837178c79be6f0e250"),)),
}


def default_path(name: str) -> Path:
    """Where :func:`fetch_weights` writes ``name`` by default (ST-LPIPS alex is found there)."""
    return metrics_cache() / f"{name}.safetensors"


def fetch_weights(name: str, out: str | os.PathLike | None = None, *, force: bool = False,
                  downloader: Callable[[PackageSource, Path], Path] = download_package) -> Path:
    """Download, verify and convert the weights ``name``; return the safetensors path.

    An existing output is kept unless ``force`` (it was written atomically and
    its loader checks it). ``downloader`` is replaceable for tests.
    """
    if name not in SOURCES:
        raise InputError(f"unknown weights {name!r} (choose from {', '.join(SOURCES)})")
    path = Path(out) if out is not None else default_path(name)
    if path.exists() and not path.is_file():
        raise InputError(f"{path} exists and is not a regular file; move it away")
    if path.is_file() and not force:
        return path
    make_folder(path.parent)
    source = SOURCES[name]
    with tempfile.TemporaryDirectory(prefix="vid1d-weights-") as tmp:
        archive = downloader(source, Path(tmp))
        (official,) = extract_clips(source, archive, Path(tmp))
        return convert_stlpips(official, path)
