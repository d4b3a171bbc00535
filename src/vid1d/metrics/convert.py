"""Build vid1d's LPIPS/DISTS safetensors files from the official checkpoints.

The user supplies files they already have (vid1d downloads nothing):

- ``lpips-vgg``: backbone torchvision ``vgg16-397923af.pth``,
  head LPIPS ``lpips/weights/v0.1/vgg.pth``;
- ``lpips-alex``: backbone torchvision ``alexnet-owt-7be5be79.pth``,
  head LPIPS ``lpips/weights/v0.1/alex.pth``;
- ``dists``: backbone torchvision ``vgg16-397923af.pth``,
  head DISTS_pytorch ``weights.pt`` (``alpha`` and ``beta``).

They are read with ``torch.load(..., weights_only=True)`` only, so a checkpoint
that needs arbitrary unpickling is refused rather than executed. The tensors
keep their official names (see :mod:`vid1d.metrics.lpips` and
:mod:`vid1d.metrics.dists`); the classifier of the torchvision checkpoint is
dropped. The output is written atomically and never over an input.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import torch
from safetensors.torch import save_file
from torch import Tensor, nn

from vid1d.errors import InputError
from vid1d.metrics.dists import DISTS
from vid1d.metrics.lpips import LPIPS
from vid1d.metrics.weights import check_tensors, file_sha256
from vid1d.utils.fs import atomic_path, check_not_input

Kind = Literal["lpips-vgg", "lpips-alex", "dists"]
KINDS: tuple[str, ...] = ("lpips-vgg", "lpips-alex", "dists")


def _load_official(path: Path, what: str) -> dict[str, Tensor]:
    if not path.is_file():
        raise InputError(f"convert_weights: {what} file not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle/zip errors of many kinds
        raise InputError(
            f"convert_weights: cannot load {what} {path} with torch.load(weights_only=True): {e}"
        ) from e
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise InputError(f"convert_weights: {what} {path} is not a state dict of tensors")
    return obj


def _model_for(kind: str) -> nn.Module:
    if kind == "lpips-vgg":
        return LPIPS("vgg")
    if kind == "lpips-alex":
        return LPIPS("alex")
    if kind == "dists":
        return DISTS()
    raise InputError(f"convert_weights: unknown kind {kind!r} (one of {', '.join(KINDS)})")


def convert_weights(
    kind: Kind,
    *,
    backbone: str | os.PathLike,
    head: str | os.PathLike,
    out: str | os.PathLike,
) -> Path:
    """Write the single safetensors file that LPIPS or DISTS loads; return its path.

    Args:
        kind: ``"lpips-vgg"``, ``"lpips-alex"`` or ``"dists"``.
        backbone: the torchvision ImageNet checkpoint (see the module docstring).
        head: the LPIPS v0.1 linear heads or the DISTS ``alpha``/``beta`` file.
        out: the ``.safetensors`` file to write.

    Raises:
        InputError: unknown kind, unreadable file, missing or mis-shaped tensors,
            or ``out`` is one of the inputs.
    """
    model = _model_for(kind)
    backbone, head, out = Path(backbone), Path(head), Path(out)
    check_not_input(out, [p for p in (backbone, head) if p.exists()])
    expected = model.expected_shapes()
    bb = _load_official(backbone, "backbone")
    hd = _load_official(head, "head")
    tensors = {k: v for k, v in bb.items() if k.startswith("features.")}
    tensors.update(hd)
    # report only the keys this kind needs; extra head keys are an error, extra
    # backbone keys (the classifier) are expected and dropped
    check_tensors(tensors, expected, f"convert_weights ({kind})")
    meta = {
        "vid1d_format": "lpips" if kind.startswith("lpips") else "dists",
        "source_backbone": f"{backbone.name} sha256:{file_sha256(backbone)}",
        "source_head": f"{head.name} sha256:{file_sha256(head)}",
    }
    if kind.startswith("lpips"):
        meta.update(net=kind.split("-")[1], version="0.1")
    return save_metric_weights(tensors, out, meta)


def save_metric_weights(
    tensors: dict[str, Tensor] | nn.Module, out: str | os.PathLike, metadata: dict[str, str]
) -> Path:
    """Write tensors (or a module's state dict) as float32 safetensors, atomically."""
    if isinstance(tensors, nn.Module):
        tensors = tensors.state_dict()
    data = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in tensors.items()}
    out = Path(out)
    with atomic_path(out) as tmp:
        save_file(data, str(tmp), metadata=metadata)
    return out
