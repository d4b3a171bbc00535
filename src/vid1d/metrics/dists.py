"""DISTS (Ding, Ma, Wang & Simoncelli 2020, "Image Quality Assessment: Unifying
Structure and Texture Similarity", TPAMI) -- our own module, numerically the
official ``DISTS_pytorch.DISTS`` forward pass.

For frames ``x, y`` in [0, 1]: VGG16 with its max-pools replaced by L2 pooling
gives, with the raw image as stage 0, six feature stages ``f_k`` (3, 64, 128,
256, 512, 512 channels = 1475 in all). Per channel ``i`` of stage ``k``, with
global means ``mu``, variances ``sigma^2`` and covariance ``sigma_xy``::

    texture   l_ki = (2 mu_x mu_y + c1) / (mu_x^2 + mu_y^2 + c1)
    structure s_ki = (2 sigma_xy + c2) / (sigma_x^2 + sigma_y^2 + c2)
    DISTS(x, y) = 1 - sum_ki (alpha_ki l_ki + beta_ki s_ki) / sum(alpha + beta)

with ``c1 = c2 = 1e-6``. ``DISTS(x, x) == 0`` and it is symmetric. Frames are
scored at their own resolution (the official demo script first resizes the
shorter side to 256; that is preprocessing, not part of the metric).

Weights (one safetensors file, by path or ``$VID1D_DISTS_WEIGHTS``; build it
with :func:`vid1d.metrics.convert_weights`):

- ``features.<i>.weight``, ``features.<i>.bias``: the VGG16 convolutions under
  torchvision's names (``i`` in 0, 2, 5, ..., 28), as in ``vgg16-397923af.pth``;
- ``alpha``, ``beta``, shape ``(1, 1475, 1, 1)``: the learned weights of DISTS's
  ``weights.pt`` (same names).

Metadata ``{"vid1d_format": "dists"}``.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor, nn

from vid1d.errors import InputError
from vid1d.metrics._checks import check_pair
from vid1d.metrics.backbones import VGG16_CHANNELS, VGG16Features
from vid1d.metrics.weights import load_checked, read_metric_weights, weights_tag

STAGE_CHANNELS = (3, *VGG16_CHANNELS)  # stage 0 is the image itself
C1 = C2 = 1e-6


class DISTS(nn.Module):
    """DISTS distance per frame. Build with :meth:`from_file` to get real weights.

    ``DISTS()`` alone has random backbone weights and the official ``alpha, beta``
    initialization (normal(0.1, 0.01)); parameters never require grad, the forward
    pass is differentiable with respect to the inputs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = VGG16Features(pool="l2")
        total = sum(STAGE_CHANNELS)
        self.alpha = nn.Parameter(torch.empty(1, total, 1, 1).normal_(0.1, 0.01))
        self.beta = nn.Parameter(torch.empty(1, total, 1, 1).normal_(0.1, 0.01))
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1),
                             persistent=False)
        self.weights_sha256: str | None = None
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None) -> DISTS:
        """Load from a vid1d DISTS safetensors file (``path`` or ``$VID1D_DISTS_WEIGHTS``).

        Raises :class:`InputError` (with instructions) if no file is given or found,
        and if tensor names or shapes are wrong.
        """
        p, tensors, _ = read_metric_weights(path, "dists")
        return load_checked(cls(), tensors, p, f"DISTS weights {p}")

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """``{tensor name: shape}`` of a weight file."""
        return {k: tuple(v.shape) for k, v in self.state_dict().items()}

    @property
    def version(self) -> str:
        """E.g. ``"vid1d DISTS sha256:0123456789ab"`` (for result files)."""
        return f"vid1d DISTS {weights_tag(self.weights_sha256)}"

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """DISTS of frames ``(N, 3, H, W)`` in [0, 1] -> ``(N,)`` (lower = more similar).

        Inputs are moved to the module's device and dtype.
        """
        x, y = check_pair(x, y, "dists")
        if x.shape[1] != 3:
            raise InputError(f"dists: expected RGB frames (N, 3, H, W), got {tuple(x.shape)}")
        x, y = x.to(self.alpha.device, self.alpha.dtype), y.to(self.alpha.device, self.alpha.dtype)
        n = x.shape[0]
        both = torch.cat([x, y])  # (2N, 3, H, W): one backbone pass for both images
        stages = [both, *self.features.taps((both - self.mean) / self.std)]
        w_sum = self.alpha.sum() + self.beta.sum()
        alphas = torch.split(self.alpha / w_sum, STAGE_CHANNELS, dim=1)
        betas = torch.split(self.beta / w_sum, STAGE_CHANNELS, dim=1)
        texture = x.new_zeros(n)
        structure = x.new_zeros(n)
        for f, a, b in zip(stages, alphas, betas, strict=True):
            fx, fy = f[:n], f[n:]
            mx, my = fx.mean((2, 3), keepdim=True), fy.mean((2, 3), keepdim=True)
            vx = (fx - mx).pow(2).mean((2, 3), keepdim=True)
            vy = (fy - my).pow(2).mean((2, 3), keepdim=True)
            cov = (fx * fy).mean((2, 3), keepdim=True) - mx * my
            s1 = (2 * mx * my + C1) / (mx * mx + my * my + C1)
            s2 = (2 * cov + C2) / (vx + vy + C2)
            texture = texture + (a * s1).sum((1, 2, 3))
            structure = structure + (b * s2).sum((1, 2, 3))
        return 1 - (texture + structure)


def load_dists(path: str | os.PathLike | None = None,
               device: str | torch.device = "cpu") -> DISTS:
    """:meth:`DISTS.from_file` moved to ``device``."""
    return DISTS.from_file(path).to(device)
