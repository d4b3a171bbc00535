"""A tiny trainable model and dataset for the training tests (and the torchrun worker).

Registered as model type ``train-test-ae`` with presets ``tiny`` (a bare model
config) and ``recipe`` (a RunPreset with its own data/train settings).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from torch.utils.data import Dataset

from vid1d.data.config import DataConfig
from vid1d.models.registry import register_model_type
from vid1d.train import OptimConfig, RunPreset, TrainConfig


@dataclass(frozen=True)
class TinyAEConfig:
    dim: int = 8
    latent: int = 4
    noise: float = 0.0  # std of training noise on the latent (exercises the RNG streams)


class TinyAE(nn.Module):
    """Conv autoencoder over frames: (B, 3, T, H, W) -> same, trained with MSE."""

    def __init__(self, cfg: TinyAEConfig):
        super().__init__()
        self.cfg = cfg
        self.enc = nn.Sequential(nn.Conv2d(3, cfg.dim, 3, stride=2, padding=1), nn.GELU(),
                                 nn.Conv2d(cfg.dim, cfg.latent, 3, padding=1))
        self.norm = nn.GroupNorm(1, cfg.latent)
        # A ModuleList, so that FSDP2 shards its members as separate units.
        self.dec = nn.ModuleList([
            nn.Sequential(nn.ConvTranspose2d(cfg.latent, cfg.dim, 4, stride=2, padding=1),
                          nn.GELU()),
            nn.Conv2d(cfg.dim, 3, 3, padding=1),
        ])

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        b = video.shape[0]
        x = rearrange(video, "b c t h w -> (b t) c h w")
        y = self.norm(self.enc(x))  # (BT, latent, H/2, W/2)
        if self.training and self.cfg.noise:
            y = y + self.cfg.noise * torch.randn_like(y)
        for layer in self.dec:
            y = layer(y)
        x_hat = y
        return rearrange(x_hat, "(b t) c h w -> b c t h w", b=b)

    def training_losses(self, batch: dict, step: int) -> dict[str, torch.Tensor]:
        x = batch["video"]
        mse = F.mse_loss(self(x), x)
        return {"loss": mse, "mse": mse, "psnr": -10 * torch.log10(mse.detach())}

    def validation_metrics(self, batch: dict) -> dict[str, float]:
        mse = F.mse_loss(self(batch["video"]), batch["video"]).item()
        return {"mse": mse}

    def sample_images(self, batch: dict) -> torch.Tensor:
        x = batch["video"][:, :, 0]
        x_hat = self(batch["video"])[:, :, 0].clamp(0, 1)
        return rearrange(torch.stack([x, x_hat], 1), "b two c h w -> (b two) c h w")


class TinyClips(Dataset):
    """``n`` smooth random clips (3, T, H, W); item i is a pure function of (seed, i)."""

    def __init__(self, n: int = 64, frames: int = 2, size: int = 16, seed: int = 0):
        self.n, self.frames, self.size, self.seed = n, frames, size, seed

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        g = torch.Generator().manual_seed(self.seed * 100_003 + int(index))
        coarse = torch.rand(3, self.frames, 4, 4, generator=g)
        video = F.interpolate(coarse, size=(self.size, self.size), mode="bilinear",
                              align_corners=False)
        return {"video": video.clamp(0, 1), "label": torch.tensor(index % 3),
                "source": f"tiny:{index}"}


TINY_DATA = DataConfig(kind="synthetic-shapes", frames=2, size=(16, 16), workers=0,
                       epoch_size=64, val_size=8)
TINY_TRAIN = TrainConfig(steps=6, batch_size=4, optim=OptimConfig(lr=3e-3, min_lr=3e-4,
                         warmup_steps=2), ema_decay=0.9, log_every=2, val_every=3,
                         val_samples=4, sample_every=6, sample_count=2, ckpt_every=3)


@register_model_type("train-test-ae", TinyAEConfig, presets={
    "tiny": TinyAEConfig(),
    "recipe": RunPreset(model=TinyAEConfig(dim=6), data=TINY_DATA, train=TINY_TRAIN),
})
def build_tiny(cfg: TinyAEConfig) -> TinyAE:
    return TinyAE(cfg)
