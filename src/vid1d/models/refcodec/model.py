"""The reference learned codec: a convolutional autoencoder with a factorized prior.

Ballé, Laparra & Simoncelli, "End-to-end optimized image compression" (ICLR
2017), with the non-parametric factorized density of Ballé et al. 2018 — the
"bmshj2018-factorized" model of CompressAI, at small sizes. Every frame is coded
alone (all intra), which makes it the simplest end-to-end check of the platform:
training loop, export, bitstream container and real-byte evaluation::

    x --g_a (4× conv s2 + GDN)--> y --Q--> ŷ --factorized prior--> bits
                                     ŷ --g_s (4× deconv s2 + IGDN)--> x̂

Loss: R + λ·255²·MSE with R in bits per pixel (CompressAI's convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from einops import rearrange
from torch import nn

from vid1d.codec import FrameCode
from vid1d.entropy import FactorizedDensity
from vid1d.entropy.coder import estimate_bits
from vid1d.io import crop, pad_to_multiple
from vid1d.nn import GDN

AUX_WEIGHT = 1e-3


@dataclass(frozen=True)
class RefCodecConfig:
    channels: int = 64  # N
    latent_channels: int = 96  # M
    lmbda: float = 0.0130  # CompressAI's quality 4 for MSE

    @property
    def num_lmbdas(self) -> int:
        return 1


def _down(i: int, o: int) -> nn.Conv2d:
    return nn.Conv2d(i, o, 5, stride=2, padding=2)


def _up(i: int, o: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(i, o, 5, stride=2, padding=2, output_padding=1)


class RefCodec(nn.Module):
    model_type = "refcodec"
    stride = 16

    def __init__(self, cfg: RefCodecConfig):
        super().__init__()
        self.cfg = cfg
        n, m = cfg.channels, cfg.latent_channels
        self.g_a = nn.Sequential(_down(3, n), GDN(n), _down(n, n), GDN(n), _down(n, n), GDN(n),
                                 _down(n, m))
        self.g_s = nn.Sequential(_up(m, n), GDN(n, inverse=True), _up(n, n), GDN(n, inverse=True),
                                 _up(n, n), GDN(n, inverse=True), _up(n, 3))
        self.prior = FactorizedDensity(m)

    # -- training path ---------------------------------------------------------------------
    def forward(self, x: torch.Tensor, training: bool | None = None) -> dict:
        """x (N, 3, H, W) -> {"x_hat", "likelihoods": {"y"}} (frames padded to 16 inside)."""
        H, W = x.shape[-2:]
        y = self.analysis(x)  # (N, M, H'/16, W'/16)
        y_hat, lik = self.prior(y, training=self.training if training is None else training)
        return {"x_hat": self.synthesis(y_hat, H, W), "likelihoods": {"y": lik}}

    # Pixels are centred on 0 around the transforms: the networks then need not
    # learn the mean grey level first, which makes early training much steadier.
    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        return self.g_a(pad_to_multiple(x - 0.5, self.stride)[0])

    def synthesis(self, y_hat: torch.Tensor, height: int, width: int) -> torch.Tensor:
        return crop(self.g_s(y_hat), (height, width)) + 0.5

    def training_losses(self, batch: dict, step: int) -> dict[str, torch.Tensor]:
        frames = rearrange(batch["video"], "b c t h w -> (b t) c h w")
        out = self(frames)
        n, _, H, W = frames.shape
        bpp = -torch.log2(out["likelihoods"]["y"]).sum() / (n * H * W)
        mse = (out["x_hat"] - frames).pow(2).mean()
        # The auxiliary loss only moves the prior's quantiles (the range its coding
        # tables cover). It is summed over channels and large at first; weighted
        # down, so it neither dominates the logged loss nor, through global
        # gradient clipping, shrinks the rate-distortion gradients.
        aux = self.prior.aux_loss()
        loss = bpp + self.cfg.lmbda * 255**2 * mse + AUX_WEIGHT * aux
        return {"loss": loss, "bpp": bpp.detach(), "mse": mse.detach(), "aux": aux.detach(),
                "psnr": -10 * torch.log10(mse.detach().clamp_min(1e-10))}

    @torch.no_grad()
    def validation_metrics(self, batch: dict) -> dict[str, float]:
        frames = rearrange(batch["video"], "b c t h w -> (b t) c h w")
        out = self(frames, training=False)
        n, _, H, W = frames.shape
        mse = (out["x_hat"].clamp(0, 1) - frames).pow(2).mean()
        return {"bpp": float(-torch.log2(out["likelihoods"]["y"]).sum() / (n * H * W)),
                "psnr": float(-10 * torch.log10(mse))}

    @torch.no_grad()
    def sample_images(self, batch: dict) -> torch.Tensor:
        frames = batch["video"][:2, :, 0]
        return torch.cat([frames, self(frames, training=False)["x_hat"].clamp(0, 1)])

    # -- coding path (the frame-codec interface of vid1d.codec) ---------------------------
    def lmbda_for_quality(self, quality: float) -> float:
        return self.cfg.lmbda

    def quality_for_lmbda(self, lmbda: float) -> float:
        return 0.0

    def update(self, force: bool = False) -> None:
        """Build the prior's integer tables if the weights do not carry them yet.

        Tables saved in the state dict are never rebuilt (unless ``force``): they,
        not the float weights, are what makes coding identical across machines.
        """
        if force or not self.prior.tables_built:
            self.prior.update()

    def _tables(self):
        self.update()
        return self.prior.table

    @torch.no_grad()
    def compress_frame(self, x: torch.Tensor, state, quality: float):
        """x (1, 3, H, W) -> (FrameCode, x̂, None): every frame is intra."""
        table = self._tables()
        H, W = x.shape[-2:]
        y = self.analysis(x)
        data, symbols = self.prior.compress(y)
        y_hat = self.prior.decompress(data, y.shape)  # exactly what the decoder will see
        indexes = np.broadcast_to(np.arange(y.shape[1], dtype=np.int32)[None, :, None, None],
                                  tuple(y.shape))
        bits = estimate_bits(symbols.numpy(), indexes, table)
        x_hat = self.synthesis(y_hat, H, W).clamp(0, 1)
        return FrameCode(data, symbols.numpy(), bits), x_hat, None

    @torch.no_grad()
    def decompress_frame(self, data: bytes, state, quality: float, height: int, width: int,
                         device="cpu"):
        self._tables()
        hp, wp = (-(-height // self.stride) * self.stride, -(-width // self.stride) * self.stride)
        shape = (1, self.cfg.latent_channels, hp // self.stride, wp // self.stride)
        y_hat = self.prior.decompress(data, shape)
        medians = self.prior.medians().detach().view(1, -1, 1, 1).to(y_hat.device)
        symbols = torch.round(y_hat - medians).to(torch.int32).cpu().numpy()
        x_hat = self.synthesis(y_hat, height, width).clamp(0, 1)
        return x_hat, symbols, None
