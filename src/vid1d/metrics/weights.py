"""Locating, hashing and checking the perceptual-metric weight files.

LPIPS, DISTS and ST-LPIPS each load backbone *and* head weights from one local
safetensors file, given by path or by an environment variable. LPIPS and DISTS
files are built once from the official checkpoints with
:func:`vid1d.metrics.convert_weights` (see that module for the tensor names);
vid1d does not download them. ST-LPIPS's official weights ship in a PyPI wheel,
which ``vid1d weights fetch`` downloads by package name into
:func:`metrics_cache` (:mod:`vid1d.metrics.fetch`); that file is used when no
path or variable names another.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch import Tensor

from vid1d.errors import InputError

ENV_VARS = {"lpips": "VID1D_LPIPS_WEIGHTS", "dists": "VID1D_DISTS_WEIGHTS",
            "stlpips": "VID1D_STLPIPS_WEIGHTS"}
DEFAULT_FILES = {"stlpips": "stlpips-alex.safetensors"}
"""Metrics with a default file in :func:`metrics_cache` (the one ``vid1d weights fetch`` writes)."""

_HOW_TO = {
    "lpips": (
        "build it once from the official files with vid1d.metrics.convert_weights("
        "'lpips-vgg', backbone='vgg16-397923af.pth', head='<lpips>/weights/v0.1/vgg.pth', "
        "out='lpips_vgg.safetensors') (or 'lpips-alex' with alexnet-owt-7be5be79.pth and alex.pth)"
    ),
    "dists": (
        "build it once from the official files with vid1d.metrics.convert_weights("
        "'dists', backbone='vgg16-397923af.pth', head='<DISTS>/weights.pt', "
        "out='dists.safetensors')"
    ),
    "stlpips": (
        "'vid1d weights fetch stlpips-alex' downloads the official weights (the stlpips-pytorch "
        "wheel, PyPI) into the default place"
    ),
}


def metrics_cache() -> Path:
    """Where ``vid1d weights fetch`` puts metric weights: ``~/.cache/vid1d/metrics``."""
    return Path.home() / ".cache" / "vid1d" / "metrics"


def resolve_weights(path: str | os.PathLike | None, metric: str) -> Path:
    """The weight file to use: ``path`` if given, else ``$VID1D_<METRIC>_WEIGHTS``,
    else (ST-LPIPS) the fetched file in :func:`metrics_cache` if it is there.

    Raises :class:`InputError` explaining how to supply the weights when neither
    is set or the file does not exist.
    """
    env = ENV_VARS[metric]
    name = metric.upper()
    if path is None:
        value = os.environ.get(env, "").strip()
        default = metrics_cache() / DEFAULT_FILES[metric] if metric in DEFAULT_FILES else None
        if not value and default is not None and default.is_file():
            return default
        if not value:
            raise InputError(
                f"{name} needs weights: pass a .safetensors path or set {env}=/path/to/file; "
                + _HOW_TO[metric]
            )
        path, source = value, f"${env}"
    else:
        source = "path"
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"{name} weights not found: {p} (from {source}); " + _HOW_TO[metric])
    return p


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_safetensors(path: Path, metric: str) -> tuple[dict[str, Tensor], dict[str, str]]:
    """All tensors (on CPU) and the metadata of a safetensors file; InputError if unreadable."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises several private error types
        raise InputError(f"{metric.upper()} weights {path}: not a readable safetensors file ({e})") from e
    return tensors, meta


def check_tensors(
    tensors: dict[str, Tensor], expected: dict[str, tuple[int, ...]], what: str
) -> None:
    """Exactly the expected keys with the expected shapes, finite float values."""
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {_short(missing)}")
        if extra:
            parts.append(f"unexpected {_short(extra)}")
        raise InputError(f"{what}: wrong tensor names: " + "; ".join(parts))
    for k, shape in expected.items():
        t = tensors[k]
        if tuple(t.shape) != shape:
            raise InputError(f"{what}: tensor {k} has shape {tuple(t.shape)}, expected {shape}")
        if not t.is_floating_point() or not bool(torch.isfinite(t).all()):
            raise InputError(f"{what}: tensor {k} must hold finite floating-point values")


def _short(keys: list[str], n: int = 5) -> str:
    return ", ".join(keys[:n]) + (f" (+{len(keys) - n} more)" if len(keys) > n else "")


def read_metric_weights(path: str | os.PathLike | None,
                        metric: str) -> tuple[Path, dict[str, Tensor], dict[str, str]]:
    """Resolve, read and tag-check a metric's weight file: ``(path, tensors, metadata)``.
    A file tagged for another metric (``vid1d_format``) is an InputError."""
    p = resolve_weights(path, metric)
    tensors, meta = read_safetensors(p, metric)
    if meta.get("vid1d_format", metric) != metric:
        raise InputError(f"{p}: a {meta['vid1d_format']!r} weight file, not {metric.upper()} weights")
    return p, tensors, meta


def load_checked(model: torch.nn.Module, tensors: dict[str, Tensor], path: Path, what: str):
    """Load ``tensors`` into ``model`` after :func:`check_tensors` against its own state
    (names, shapes, finite values); record the file's sha256 as ``model.weights_sha256``."""
    check_tensors(tensors, {k: tuple(v.shape) for k, v in model.state_dict().items()}, what)
    model.load_state_dict(tensors)
    model.weights_sha256 = file_sha256(path)
    return model


def weights_tag(sha256: str | None) -> str:
    """``"sha256:0123456789ab"`` for result files, or that the weights are random."""
    return f"sha256:{sha256[:12]}" if sha256 else "unloaded random weights"

