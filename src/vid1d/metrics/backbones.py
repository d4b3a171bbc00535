"""ImageNet backbones for the perceptual metrics, laid out exactly like torchvision's.

``VGG16Features`` and ``AlexNetFeatures`` are ``nn.Sequential`` stacks whose
module indices equal those of ``torchvision.models.vgg16().features`` and
``torchvision.models.alexnet().features``, so their state-dict keys
(``features.<i>.weight`` / ``features.<i>.bias`` once nested under a
``features`` attribute) are torchvision's and its checkpoints
(``vgg16-397923af.pth``, ``alexnet-owt-7be5be79.pth``) load without renaming.
torchvision itself is never imported (it cannot be installed here, and the
metrics must not depend on it).

Each backbone returns the activations after the ReLUs that LPIPS taps (the
"slices" of Zhang et al. 2018); DISTS swaps VGG's max-pools for L2 pooling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# torchvision's vgg16 "D" configuration: conv widths, "M" = 2x2 max-pool
_VGG16_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)
VGG16_TAPS = (3, 8, 15, 22, 29)
"""Indices of relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 in ``vgg16().features``."""
VGG16_CHANNELS = (64, 128, 256, 512, 512)

ALEXNET_TAPS = (1, 4, 7, 9, 11)
"""Indices of relu1 .. relu5 in ``alexnet().features``."""
ALEXNET_CHANNELS = (64, 192, 384, 256, 256)


class L2Pool(nn.Module):
    """L2 pooling (Hénaff & Simoncelli 2016) as used by DISTS instead of max-pooling.

    ``sqrt(hann3x3 * x^2 + eps)`` with stride 2 and padding 1; the 3x3 window is
    the outer product of ``hanning(5)[1:-1] = (0.5, 1, 0.5)``, normalized to sum 1
    (the official DISTS code).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        a = torch.tensor([0.5, 1.0, 0.5])
        g = a[:, None] * a[None, :]
        g = g / g.sum()
        # a fixed filter, not a weight: kept out of the state dict
        self.register_buffer("filter", g.expand(channels, 1, 3, 3).clone(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        out = F.conv2d(x * x, self.filter.to(x.dtype), stride=2, padding=1, groups=x.shape[1])
        return (out + 1e-12).sqrt()


class VGG16Features(nn.Sequential):
    """``torchvision.models.vgg16().features`` (31 modules); ``pool="l2"`` for DISTS."""

    def __init__(self, pool: str = "max") -> None:
        layers: list[nn.Module] = []
        in_ch = 3
        for v in _VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2) if pool == "max" else L2Pool(in_ch))
            else:
                layers += [nn.Conv2d(in_ch, int(v), 3, padding=1), nn.ReLU()]
                in_ch = int(v)
        super().__init__(*layers)

    def taps(self, x: Tensor) -> list[Tensor]:
        """Activations at relu1_2 .. relu5_3: 5 tensors ``(N, C_k, H_k, W_k)``."""
        out = []
        for i, layer in enumerate(self):
            if i > VGG16_TAPS[-1]:
                break
            x = layer(x)
            if i in VGG16_TAPS:
                out.append(x)
        return out


class AlexNetFeatures(nn.Sequential):
    """``torchvision.models.alexnet().features`` (13 modules)."""

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(3, 2),
        )

    def taps(self, x: Tensor) -> list[Tensor]:
        """Activations at relu1 .. relu5: 5 tensors ``(N, C_k, H_k, W_k)``."""
        out = []
        for i, layer in enumerate(self):
            if i > ALEXNET_TAPS[-1]:
                break
            x = layer(x)
            if i in ALEXNET_TAPS:
                out.append(x)
        return out


def conv_keys(features: nn.Sequential, prefix: str = "features.") -> dict[str, tuple[int, ...]]:
    """Expected ``{key: shape}`` of a backbone's weights (torchvision naming)."""
    return {prefix + k: tuple(v.shape) for k, v in features.state_dict().items()}
