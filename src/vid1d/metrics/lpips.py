"""LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a
Perceptual Metric"), version 0.1, with VGG16 or AlexNet features and learned
linear heads -- our own module, numerically the official ``lpips`` package's
``LPIPS(net=..., version="0.1")`` called with ``normalize=True``.

For frames ``x, y`` in [0, 1]::

    x -> 2x-1 -> (. - shift) / scale -> backbone relu taps f_k(x)   k = 1..5
    d(x, y) = sum_k mean_hw( w_k . (n(f_k(x)) - n(f_k(y)))^2 )

with ``n`` the unit-normalization over channels (eps 1e-10), ``w_k`` the
non-negative 1x1-conv heads ``lin{k}``, and ``shift``/``scale`` the official
ScalingLayer constants. ``d(x, y) == d(y, x)`` exactly and ``d(x, x) == 0``.

Weights (one safetensors file, by path or ``$VID1D_LPIPS_WEIGHTS``; build it
with :func:`vid1d.metrics.convert_weights`):

- ``features.<i>.weight``, ``features.<i>.bias``: the backbone convolutions under
  torchvision's names (``i`` = module index in ``vgg16().features``, 0..28, or
  ``alexnet().features``, 0..10), as in ``vgg16-397923af.pth`` /
  ``alexnet-owt-7be5be79.pth``;
- ``lin<k>.model.1.weight``, k = 0..4, shape ``(1, C_k, 1, 1)``: the linear heads
  under the names of LPIPS's ``weights/v0.1/vgg.pth`` / ``alex.pth``.

Metadata ``{"vid1d_format": "lpips", "net": "vgg"|"alex", "version": "0.1"}``
(the backbone is also recognised from the tensor names alone).
"""

from __future__ import annotations

import os
from typing import Literal

import torch
from torch import Tensor, nn

from vid1d.errors import InputError
from vid1d.metrics._checks import check_pair
from vid1d.metrics.backbones import (
    ALEXNET_CHANNELS,
    VGG16_CHANNELS,
    AlexNetFeatures,
    VGG16Features,
)
from vid1d.metrics.weights import load_checked, read_metric_weights, weights_tag

Net = Literal["vgg", "alex"]
MIN_SIDE = {"vgg": 16, "alex": 31}
"""Smallest frame side whose deepest tap (relu5) is still at least 1x1."""
BACKBONES = {"vgg": (VGG16Features, VGG16_CHANNELS), "alex": (AlexNetFeatures, ALEXNET_CHANNELS)}


class _NetLin(nn.Module):
    """1x1 conv head; ``model = [dropout slot, conv]`` so the key is LPIPS's ``model.1.weight``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        # the official head is Dropout -> Conv; dropout is inactive at evaluation
        self.model = nn.Sequential(nn.Identity(), nn.Conv2d(channels, 1, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class LPIPS(nn.Module):
    """LPIPS v0.1 distance per frame. Build with :meth:`from_file` to get real weights.

    ``LPIPS(net)`` alone has random weights (tests, or as a container to fill);
    parameters never require grad, but the forward pass is differentiable with
    respect to the inputs, so it can serve as a training loss.

    Subclasses with other backbones (:class:`vid1d.metrics.STLPIPS`) set the
    class attributes below; the distance itself is the same.
    """

    METRIC = "lpips"  # weight-file tag and $VID1D_<METRIC>_WEIGHTS
    NAME = "LPIPS"
    VERSION = "0.1"
    MIN_SIDE: dict[str, int] = MIN_SIDE
    BACKBONES: dict[str, tuple[type[nn.Module], tuple[int, ...]]] = BACKBONES

    def __init__(self, net: Net = "vgg") -> None:
        super().__init__()
        if net not in self.MIN_SIDE:
            raise InputError(f"{self.NAME}: net must be 'vgg' or 'alex', got {net!r}")
        self.net = net
        features, channels = self.BACKBONES[net]
        self.features = features()
        for k, c in enumerate(channels):
            self.add_module(f"lin{k}", _NetLin(c))
        # ScalingLayer of the official code (ImageNet statistics in [-1, 1] units)
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1),
                             persistent=False)
        self.weights_sha256: str | None = None
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None, *, net: Net | None = None) -> LPIPS:
        """Load from a vid1d LPIPS safetensors file (``path`` or ``$VID1D_LPIPS_WEIGHTS``).

        Raises :class:`InputError` (with instructions) if no file is given or found,
        and if tensor names or shapes are wrong, or the backbone is not ``net``.
        """
        p, tensors, meta = read_metric_weights(path, cls.METRIC)
        file_net = meta.get("net") or cls._infer_net(tensors)
        if file_net not in cls.MIN_SIDE:
            raise InputError(f"{cls.NAME} weights {p}: cannot tell the backbone (vgg or alex)")
        if net is not None and net != file_net:
            raise InputError(f"{cls.NAME} weights {p} are for net={file_net!r}, not {net!r}")
        return load_checked(cls(file_net), tensors, p, f"{cls.NAME} weights {p}")

    @classmethod
    def _infer_net(cls, tensors: dict[str, Tensor]) -> str | None:
        """The backbone whose convolutions the file holds, all of them (files without metadata)."""
        for net, (features, _) in cls.BACKBONES.items():
            if all(f"features.{k}" in tensors for k in features().state_dict()):
                return net
        return None

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """``{tensor name: shape}`` of a weight file for this backbone."""
        return {k: tuple(v.shape) for k, v in self.state_dict().items()}

    @property
    def version(self) -> str:
        """E.g. ``"vid1d LPIPS-vgg v0.1 sha256:0123456789ab"`` (for result files)."""
        return f"vid1d {self.NAME}-{self.net} v{self.VERSION} {weights_tag(self.weights_sha256)}"

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """LPIPS of frames ``(N, 3, H, W)`` in [0, 1] -> ``(N,)`` (lower = more similar).

        Inputs are moved to the module's device and dtype.
        """
        x, y = check_pair(x, y, self.METRIC, min_side=self.MIN_SIDE[self.net])
        if x.shape[1] != 3:
            raise InputError(f"{self.METRIC}: expected RGB frames (N, 3, H, W), got {tuple(x.shape)}")
        ref = self.shift
        x, y = x.to(ref.device, ref.dtype), y.to(ref.device, ref.dtype)
        n = x.shape[0]
        # one backbone pass over both images
        both = (torch.cat([x, y]) * 2 - 1 - self.shift) / self.scale  # (2N, 3, H, W)
        taps = self.features.taps(both)
        total = x.new_zeros(n)
        for k, f in enumerate(taps):
            f = f / (f.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)  # unit norm over channels
            d = (f[:n] - f[n:]).pow(2)  # (N, C_k, H_k, W_k)
            total = total + getattr(self, f"lin{k}")(d).mean((1, 2, 3))
        return total


def load_lpips(path: str | os.PathLike | None = None, *, net: Net | None = None,
               device: str | torch.device = "cpu") -> LPIPS:
    """:meth:`LPIPS.from_file` moved to ``device``."""
    return LPIPS.from_file(path, net=net).to(device)
