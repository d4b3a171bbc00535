"""Build vid1d's LPIPS/DISTS safetensors files from the official checkpoints.

The user supplies files they already have (vid1d downloads nothing):

- ``lpips-vgg``: backbone torchvision ``vgg16-397923af.pth``,
  head LPIPS ``lpips/weights/v0.1/vgg.pth``;
- ``lpips-alex``: backbone torchvision ``alexnet-owt-7be5be79.pth``,
  head LPIPS ``lpips/weights/v0.1/alex.pth``;
- ``dists``: backbone torchvision ``vgg16-397923af.pth``,
  head DISTS_pytorch ``weights.pt`` (``alpha`` and ``beta``).

:func:`convert_stlpips` does the same for ST-LPIPS's single official file
(``alex_shift_tolerant.pth`` / ``vgg_shift_tolerant.pth`` of the
``stlpips-pytorch`` wheel), which holds backbone and heads together.

They are read with ``torch.load(..., weights_only=True)`` only, so a checkpoint
that needs arbitrary unpickling is refused rather than executed. The tensors
keep their official names (see :mod:`vid1d.metrics.lpips` and
:mod:`vid1d.metrics.dists`); the classifier of the torchvision checkpoint is
dropped. The output is written atomically and never over an input.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import torch
from safetensors.torch import save_file
from torch import Tensor, nn

from vid1d.errors import InputError
from vid1d.metrics.dists import DISTS
from vid1d.metrics.lpips import LPIPS
from vid1d.metrics.stlpips import STLPIPS
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


def convert_stlpips(official: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write the ST-LPIPS safetensors file from an official ``*_shift_tolerant.pth``.

    The backbone (alex or vgg) is read from the heads' widths. The official
    ``net.slice<k>.<i>.*`` convolutions become ``features.<i>.*``; the fixed
    tensors (ScalingLayer constants, binomial blur filters) are checked against
    the values :class:`STLPIPS` builds in, then dropped.

    Raises:
        InputError: unreadable file, not ST-LPIPS weights, or ``out`` is ``official``.
    """
    official, out = Path(official), Path(out)
    check_not_input(out, [official] if official.exists() else [])
    raw = _load_official(official, "ST-LPIPS weights")
    lin1 = raw.get("lin1.model.1.weight")
    widths = {192: "alex", 128: "vgg"}
    net = widths.get(int(lin1.shape[1])) if lin1 is not None and lin1.dim() == 4 else None
    if net is None:
        raise InputError(f"convert_stlpips: {official} is not an ST-LPIPS alex/vgg weight file")
    model = STLPIPS(net)
    blur = torch.tensor([1.0, 2.0, 1.0])
    blur = blur[:, None] * blur[None, :] / 16
    tensors: dict[str, Tensor] = {}
    for key, value in raw.items():
        conv = re.fullmatch(r"net\.slice\d+\.(\d+)\.(weight|bias)", key)
        if conv:
            tensors[f"features.{conv[1]}.{conv[2]}"] = value
        elif key.startswith("lin"):
            tensors[key] = value
        elif key.endswith(".filt"):
            if not torch.equal(value, blur.expand_as(value)):
                raise InputError(f"convert_stlpips: {official}: {key} is not the 3x3 binomial filter")
        elif key.startswith("scaling_layer."):
            ours = getattr(model, key.split(".")[1]).to(value.dtype)
            if value.shape != ours.shape or not torch.allclose(value, ours):
                raise InputError(f"convert_stlpips: {official}: {key} differs from LPIPS's constants")
        else:
            raise InputError(f"convert_stlpips: {official}: unexpected tensor {key}")
    check_tensors(tensors, model.expected_shapes(), f"convert_stlpips ({net})")
    meta = {"vid1d_format": "stlpips", "net": net, "version": "ST0.0",
            "source": f"{official.name} sha256:{file_sha256(official)}"}
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
