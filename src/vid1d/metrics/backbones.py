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

``STAlexNetFeatures`` and ``STVGG16Features`` are the shift-tolerant variants of
ST-LPIPS (Ghildyal & Liu, ECCV 2022): every stride-2 step becomes a stride-1
max-pool (or a stride-1 first convolution) followed by :class:`BlurDown`. Their
module indices are those of the ``features`` stack of the official
``stlpips_pytorch`` networks, so the official tensors load under the same index.
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


class _Tapped(nn.Sequential):
    """A feature stack that returns the activations at the indices in ``TAPS``."""

    TAPS: tuple[int, ...] = ()

    def taps(self, x: Tensor) -> list[Tensor]:
        """The activations at ``TAPS``: tensors ``(N, C_k, H_k, W_k)``."""
        out = []
        for i, layer in enumerate(self):
            if i > self.TAPS[-1]:
                break
            x = layer(x)
            if i in self.TAPS:
                out.append(x)
        return out


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


class VGG16Features(_Tapped):
    """``torchvision.models.vgg16().features`` (31 modules); ``pool="l2"`` for DISTS.

    Taps relu1_2 .. relu5_3."""

    TAPS = VGG16_TAPS

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


class AlexNetFeatures(_Tapped):
    """``torchvision.models.alexnet().features`` (13 modules); taps relu1 .. relu5."""

    TAPS = ALEXNET_TAPS

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


class BlurDown(nn.Module):
    """Anti-aliased stride-2 downsampling ("BlurPool", Zhang 2019) as ST-LPIPS uses it.

    Reflection padding of 2 on every side ("pad_more"), then the 3x3 binomial
    filter ``[1, 2, 1]^T [1, 2, 1] / 16`` per channel with stride 2. The filter is
    fixed, so it is kept out of the state dict.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        a = torch.tensor([1.0, 2.0, 1.0])
        g = a[:, None] * a[None, :] / 16
        self.register_buffer("filter", g.expand(channels, 1, 3, 3).clone(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        x = F.pad(x, (2, 2, 2, 2), mode="reflect")
        return F.conv2d(x, self.filter.to(x.dtype), stride=2, groups=x.shape[1])


class STAlexNetFeatures(_Tapped):
    """ST-LPIPS's shift-tolerant AlexNet (``variant="shift_tolerant"``): 15 modules.

    The first convolution runs at stride 1 and is followed by a blur-downsample
    before its ReLU; each 3x3/2 max-pool becomes a 3x3/1 max-pool + blur-downsample.
    Taps after the ReLUs at indices 2, 6, 10, 12, 14 (64, 192, 384, 256, 256 channels).
    """

    TAPS = (2, 6, 10, 12, 14)

    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(3, 64, 11, stride=1, padding=2), BlurDown(64), nn.ReLU(),
            nn.MaxPool2d(3, 1), BlurDown(64),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(),
            nn.MaxPool2d(3, 1), BlurDown(192),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
        )


class STVGG16Features(_Tapped):
    """ST-LPIPS's shift-tolerant VGG16: each 2x2/2 max-pool becomes 2x2/1 + blur-downsample.

    34 modules; taps relu1_2 .. relu5_3 at indices 3, 9, 17, 25, 33.
    """

    TAPS = (3, 9, 17, 25, 33)

    def __init__(self) -> None:
        layers: list[nn.Module] = []
        in_ch = 3
        for v in _VGG16_CFG[:-1]:  # the last pool feeds no tap
            if v == "M":
                layers += [nn.MaxPool2d(2, 1), BlurDown(in_ch)]
            else:
                layers += [nn.Conv2d(in_ch, int(v), 3, padding=1), nn.ReLU()]
                in_ch = int(v)
        super().__init__(*layers)


def conv_keys(features: nn.Sequential, prefix: str = "features.") -> dict[str, tuple[int, ...]]:
    """Expected ``{key: shape}`` of a backbone's weights (torchvision naming)."""
    return {prefix + k: tuple(v.shape) for k, v in features.state_dict().items()}
