"""ST-LPIPS (Ghildyal & Liu, ECCV 2022, "Shift-tolerant Perceptual Similarity
Metric") -- our own module, numerically the official ``stlpips_pytorch``
``LPIPS(net=..., variant="shift_tolerant")`` called with ``normalize=True``.

The distance is LPIPS v0.1's (:class:`vid1d.metrics.LPIPS`: ScalingLayer, taps
unit-normalized over channels, squared difference, non-negative 1x1 heads,
spatial mean, sum over taps); the backbone is an anti-aliased AlexNet or VGG16
(:class:`~vid1d.metrics.backbones.STAlexNetFeatures`,
:class:`~vid1d.metrics.backbones.STVGG16Features`), trained with its heads by
the authors. Unlike LPIPS, the full weights (backbone and heads) ship inside
the ``stlpips-pytorch`` wheel on PyPI (BSD-2-Clause), so this is the perceptual
metric vid1d can compute without files from a model hub:
``vid1d weights fetch stlpips-alex`` downloads that wheel by name, checks the
weight file's sha256 and writes our safetensors file (:mod:`vid1d.metrics.fetch`).

ST-LPIPS is not LPIPS: the two differ in backbone, heads and value. Numbers are
reported under their own name.

Weights (one safetensors file: a path, ``$VID1D_STLPIPS_WEIGHTS``, or the file
``vid1d weights fetch`` writes to ``~/.cache/vid1d/metrics/``):

- ``features.<i>.weight``, ``features.<i>.bias``: the backbone convolutions, ``i``
  the module index in the official ``features`` stack (the ``net.slice<k>.<i>``
  keys of ``alex_shift_tolerant.pth`` / ``vgg_shift_tolerant.pth``);
- ``lin<k>.model.1.weight``, k = 0..4: the heads, under the official names.

Metadata ``{"vid1d_format": "stlpips", "net": "alex"|"vgg", "version": "ST0.0"}``.
"""

from __future__ import annotations

import os

import torch

from vid1d.metrics.backbones import (
    ALEXNET_CHANNELS,
    VGG16_CHANNELS,
    STAlexNetFeatures,
    STVGG16Features,
)
from vid1d.metrics.lpips import LPIPS, Net


class STLPIPS(LPIPS):
    """ST-LPIPS distance per frame, ``(N, 3, H, W)`` in [0, 1] -> ``(N,)``, lower = more similar.

    Build with :meth:`from_file` for real weights; ``STLPIPS(net)`` alone has
    random weights. Differentiable with respect to the inputs.
    """

    METRIC = "stlpips"
    NAME = "ST-LPIPS"
    VERSION = "ST0.0"
    MIN_SIDE = {"alex": 21, "vgg": 18}
    """Smallest frame side every blur-downsample can reflect-pad (checked in the tests)."""
    BACKBONES = {"alex": (STAlexNetFeatures, ALEXNET_CHANNELS),
                 "vgg": (STVGG16Features, VGG16_CHANNELS)}

    def __init__(self, net: Net = "alex") -> None:
        super().__init__(net)


def load_stlpips(path: str | os.PathLike | None = None, *, net: Net | None = None,
                 device: str | torch.device = "cpu") -> STLPIPS:
    """:meth:`STLPIPS.from_file` moved to ``device``."""
    return STLPIPS.from_file(path, net=net).to(device)
