"""The 3D causal-CNN video autoencoder: the Wan-VAE / HunyuanVideo-VAE baseline.

The side-by-side anchor for One-DVA at the same compression (4× in time, 16×16 in
space; papers/onedva.txt Table 1 compares against Wan2.2's 4×16×16 VAE), and with the
FSQ bottleneck the discrete video tokenizer of the VRC generator (papers/vrc.txt §4)::

    video (B, 3, T, H, W) in [0, 1]
      | ×2 − 1, zero-pad H, W to ×16, replicate the last frame to T' = 1 + 4k
      v
    conv_in -> [ResBlock ×n -> Down(space)] ×2 -> [ResBlock ×n -> Down(space, time)] ×2 -> mid
      |                                              (all convs causal in time)
      v
    "kl":  (μ, log σ²) -> z = μ + σ·ε (training) | μ (eval)    L_KL = KL(q ‖ N(0, I))
    "fsq": 1×1×1 proj -> FSQ(levels) -> codes -> 1×1×1 proj back
      |
      v
    mid -> [Up(space, time) -> ResBlock ×n] ×2 -> [Up(space) -> ResBlock ×n] ×2 -> conv_out
      | crop to T × H × W, (x + 1) / 2
      v
    x̂ (B, 3, T, H, W)

Compression: a clip of ``T = 1 + 4k`` frames of H × W gives a latent of
``(1 + k) × H/16 × W/16`` vectors of ``latent_channels``: the first frame is coded
alone (so an image is a 1-frame video), every later latent frame covers 4 frames.
17×256×256 RGB -> 5×16×16×16 latent: 3·17·256² / (16·5·16·16) = 163× fewer numbers.
With FSQ each latent vector is one token of ∏L values (64 000 by default, 16 bits):
the same clip is 5·16·16 = 1280 tokens.
Encoder and decoder are causal: latent frame j depends on frames ≤ 4j, decoded
frame f on latent frames ≤ ⌈f/4⌉.

Loss: MSE (+ l1_weight·L1) (+ lpips_weight·LPIPS and stlpips_weight·ST-LPIPS on one
random frame per step)
(+ kl_weight·KL, KL averaged per latent element), pixels in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from vid1d.errors import InputError
from vid1d.metrics import perceptual_net
from vid1d.models.cnn3d.layers import (
    CausalConv3d,
    Downsample3d,
    FrameGroupNorm,
    ResBlock3d,
    Upsample3d,
)
from vid1d.quant.fsq import FSQ

TIME_STRIDE = 4
SPACE_STRIDE = 16
# Which of the 4 spatial ÷2 stages also halve time (two of them: 4×). The late ones,
# as in Wan-VAE: full-resolution features keep every frame.
TIME_DOWN = (False, False, True, True)
BOTTLENECKS = ("kl", "fsq")


@dataclass(frozen=True)
class CNN3DConfig:
    channels: int = 64  # width of the full-resolution stage
    channel_mult: tuple[int, ...] = (1, 2, 2, 4)  # one per ÷2 stage (4 stages: 16× in space)
    num_res_blocks: int = 1  # per stage, in the encoder and in the decoder
    norm_groups: int = 8
    latent_channels: int = 16
    bottleneck: str = "kl"  # "kl" (continuous, Gaussian posterior) | "fsq" (discrete codes)
    fsq_levels: tuple[int, ...] = (8, 8, 8, 5, 5, 5)  # 64 000 codes
    # One-DVA's balance of KL to reconstruction (w_kl / w_diff = 1e-5 on [−1, 1] pixels,
    # i.e. 2.5e-6 per [0, 1] MSE), so both autoencoders regularize their latents alike.
    kl_weight: float = 2.5e-6
    l1_weight: float = 0.0
    lpips_weight: float = 0.0  # > 0 needs the LPIPS weight file ($VID1D_LPIPS_WEIGHTS)
    stlpips_weight: float = 0.0  # > 0 needs `vid1d weights fetch stlpips-alex`

    def __post_init__(self) -> None:
        if len(self.channel_mult) != len(TIME_DOWN):
            raise ValueError(f"channel_mult needs {len(TIME_DOWN)} entries (16× in space), "
                             f"got {self.channel_mult}")
        if self.channels < 1 or self.num_res_blocks < 1 or self.latent_channels < 1:
            raise ValueError("channels, num_res_blocks and latent_channels must be >= 1")
        if self.norm_groups < 1 or any(m < 1 or self.channels * m % self.norm_groups
                                       for m in self.channel_mult):
            raise ValueError(f"every stage width channels·mult must be divisible by norm_groups="
                             f"{self.norm_groups} (channels={self.channels}, "
                             f"channel_mult={self.channel_mult})")
        if self.bottleneck not in BOTTLENECKS:
            raise ValueError(f"bottleneck must be one of {BOTTLENECKS}, got {self.bottleneck!r}")
        if not self.fsq_levels or any(int(x) != x or x < 2 for x in self.fsq_levels):
            raise ValueError(f"fsq_levels must be integers >= 2, got {self.fsq_levels}")
        if min(self.kl_weight, self.l1_weight, self.lpips_weight, self.stlpips_weight) < 0:
            raise ValueError("kl_weight, l1_weight, lpips_weight and stlpips_weight must be >= 0")


def latent_shape(frames: int, height: int, width: int) -> tuple[int, int, int]:
    """(1 + ⌈(T − 1)/4⌉, ⌈H/16⌉, ⌈W/16⌉) latent frames, rows and columns of a T×H×W clip."""
    return (1 + -(-(frames - 1) // TIME_STRIDE), -(-height // SPACE_STRIDE),
            -(-width // SPACE_STRIDE))


class Encoder3d(nn.Module):
    """(B, dim_in, 1 + 4k, H, W) -> (B, dim_out, 1 + k, H/16, W/16), causal in time."""

    def __init__(self, dim_in: int, dims: tuple[int, ...], time_down: tuple[bool, ...],
                 num_res_blocks: int, dim_out: int, groups: int):
        super().__init__()
        self.conv_in = CausalConv3d(dim_in, dims[0], 3)
        stages, d = [], dims[0]
        for d_stage, time in zip(dims, time_down, strict=True):
            for _ in range(num_res_blocks):
                stages.append(ResBlock3d(d, d_stage, groups))
                d = d_stage
            stages.append(Downsample3d(d, time))
        self.down = nn.Sequential(*stages)
        self.mid = nn.Sequential(ResBlock3d(d, d, groups), ResBlock3d(d, d, groups))
        self.norm_out = FrameGroupNorm(groups, d)
        self.conv_out = CausalConv3d(d, dim_out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_in(x)  # (B, D_0, T, H, W)
        x = self.down(x)  # (B, D_3, 1 + (T − 1)/4, H/16, W/16)
        x = self.mid(x)  # (B, D_3, t, h, w)
        return self.conv_out(F.silu(self.norm_out(x)))  # (B, dim_out, t, h, w)


class Decoder3d(nn.Module):
    """(B, dim_in, 1 + k, h, w) -> (B, dim_out, 1 + 4k, 16h, 16w), the encoder mirrored."""

    def __init__(self, dim_in: int, dims: tuple[int, ...], time_up: tuple[bool, ...],
                 num_res_blocks: int, dim_out: int, groups: int):
        super().__init__()
        d = dims[-1]
        self.conv_in = CausalConv3d(dim_in, d, 3)
        self.mid = nn.Sequential(ResBlock3d(d, d, groups), ResBlock3d(d, d, groups))
        stages = []
        for d_stage, time in zip(reversed(dims), reversed(time_up), strict=True):
            stages.append(Upsample3d(d, d_stage, time))
            stages.extend(ResBlock3d(d_stage, d_stage, groups) for _ in range(num_res_blocks))
            d = d_stage
        self.up = nn.Sequential(*stages)
        self.norm_out = FrameGroupNorm(groups, d)
        self.conv_out = CausalConv3d(d, dim_out, 3)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.conv_in(z)  # (B, D_3, t, h, w)
        x = self.mid(x)  # (B, D_3, t, h, w)
        x = self.up(x)  # (B, D_0, 1 + 4(t − 1), 16h, 16w)
        return self.conv_out(F.silu(self.norm_out(x)))  # (B, dim_out, T', H', W')


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, 1)) per sample, averaged over latent elements: (B,)."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).flatten(1).mean(dim=1)


class CNN3D(nn.Module):
    model_type = "cnn3d"
    time_stride = TIME_STRIDE
    space_stride = SPACE_STRIDE

    def __init__(self, cfg: CNN3DConfig):
        super().__init__()
        self.cfg = cfg
        dims = tuple(cfg.channels * m for m in cfg.channel_mult)
        c = cfg.latent_channels
        enc_out = 2 * c if cfg.bottleneck == "kl" else c  # (μ, log σ²) or pre-quantization z
        self.encoder = Encoder3d(3, dims, TIME_DOWN, cfg.num_res_blocks, enc_out, cfg.norm_groups)
        self.decoder = Decoder3d(c, dims, TIME_DOWN, cfg.num_res_blocks, 3, cfg.norm_groups)
        if cfg.bottleneck == "fsq":
            self.fsq = FSQ(cfg.fsq_levels)
            self.fsq_in = nn.Conv3d(c, self.fsq.dim, 1)
            self.fsq_out = nn.Conv3d(self.fsq.dim, c, 1)

    # -- shapes and padding ----------------------------------------------------------------------
    def latent_shape(self, frames: int, height: int, width: int) -> tuple[int, int, int]:
        return latent_shape(frames, height, width)

    @property
    def latent_dim(self) -> int:
        """Channels of :meth:`encode`'s output: latent_channels (kl) or len(fsq_levels) (fsq)."""
        return self.fsq.dim if self.cfg.bottleneck == "fsq" else self.cfg.latent_channels

    @staticmethod
    def _check_video(video: torch.Tensor) -> None:
        if video.ndim != 5 or video.shape[1] != 3 or min(video.shape[2:]) < 1:
            raise InputError(f"cnn3d expects video (B, 3, T, H, W), got {tuple(video.shape)}")

    def _pad(self, video: torch.Tensor) -> torch.Tensor:
        """[0, 1] (B, 3, T, H, W) -> [−1, 1] (B, 3, 1 + 4k, 16·h, 16·w).

        Time: the last frame is replicated (padding only ever adds future frames, so the
        causal latents of the real frames do not change). Space: zeros (mid-grey).
        """
        _, _, T, H, W = video.shape
        t, h, w = latent_shape(T, H, W)
        x = video * 2 - 1
        pad_t = 1 + TIME_STRIDE * (t - 1) - T
        if pad_t:
            x = torch.cat([x, x[:, :, -1:].expand(-1, -1, pad_t, -1, -1)], dim=2)
        return F.pad(x, (0, SPACE_STRIDE * w - W, 0, SPACE_STRIDE * h - H))  # (B, 3, T', H', W')

    # -- bottleneck ------------------------------------------------------------------------------
    def _quantize(self, z: torch.Tensor) -> torch.Tensor:
        """(B, C, t, h, w) -> FSQ codes (B, d, t, h, w), straight-through."""
        y = rearrange(self.fsq_in(z), "b d t h w -> b t h w d")  # (B, t, h, w, d)
        return rearrange(self.fsq(y), "b t h w d -> b d t h w").contiguous()  # (B, d, t, h, w)

    def _to_decoder(self, latent: torch.Tensor) -> torch.Tensor:
        """:meth:`encode`'s latent -> the decoder's input (B, latent_channels, t, h, w)."""
        return self.fsq_out(latent) if self.cfg.bottleneck == "fsq" else latent

    def _synthesis(self, latent: torch.Tensor, frames: int, height: int,
                   width: int) -> torch.Tensor:
        """Latent -> video in [0, 1] scale (not clamped), cropped to frames × height × width."""
        expected = latent_shape(frames, height, width)
        if latent.ndim != 5 or latent.shape[1] != self.latent_dim \
                or tuple(latent.shape[2:]) != expected:
            raise InputError(f"a {frames}×{height}×{width} clip needs a latent "
                             f"(B, {self.latent_dim}, {', '.join(map(str, expected))}), "
                             f"got {tuple(latent.shape)}")
        x = self.decoder(self._to_decoder(latent))  # (B, 3, T', H', W') in [−1, 1]
        return (x[:, :, :frames, :height, :width] + 1) / 2  # (B, 3, T, H, W)

    # -- training path ---------------------------------------------------------------------------
    def forward(self, video: torch.Tensor) -> dict[str, torch.Tensor]:
        """video (B, 3, T, H, W) in [0, 1] -> {"x_hat", "latent", ...}.

        kl: also "mean", "logvar" and "kl" (B,); the latent is a posterior sample in
        training mode and the mean in eval mode. fsq: also "indices" (B, t, h, w).
        """
        self._check_video(video)
        _, _, T, H, W = video.shape
        h = self.encoder(self._pad(video))  # (B, C or 2C, t, h, w)
        if self.cfg.bottleneck == "kl":
            mean, logvar = h.chunk(2, dim=1)  # (B, C, t, h, w) each
            logvar = logvar.clamp(-30.0, 20.0)
            latent = mean + (0.5 * logvar).exp() * torch.randn_like(mean) if self.training else mean
            out = {"latent": latent, "mean": mean, "logvar": logvar,
                   "kl": gaussian_kl(mean, logvar)}
        else:
            latent = self._quantize(h)  # (B, d, t, h, w)
            out = {"latent": latent, "indices": self.codes_to_indices(latent)}
        out["x_hat"] = self._synthesis(latent, T, H, W)  # (B, 3, T, H, W)
        return out

    def training_losses(self, batch: dict, step: int) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        video = batch["video"]  # (B, 3, T, H, W) in [0, 1]
        out = self(video)
        err = out["x_hat"] - video
        mse = err.pow(2).mean()
        loss, terms = mse, {"mse": mse.detach()}
        if cfg.l1_weight > 0:
            l1 = err.abs().mean()
            loss = loss + cfg.l1_weight * l1
            terms["l1"] = l1.detach()
        if cfg.bottleneck == "kl":
            kl = out["kl"].mean()
            loss = loss + cfg.kl_weight * kl
            terms["kl"] = kl.detach()
        perceptual = [(n, w) for n, w in (("lpips", cfg.lpips_weight),
                                          ("stlpips", cfg.stlpips_weight)) if w > 0]
        if perceptual:
            frame = int(torch.randint(0, video.shape[2], (1,)))  # one frame a step: VGG is costly
        for name, weight in perceptual:
            p = perceptual_net(self, name)(out["x_hat"][:, :, frame], video[:, :, frame]).mean()
            loss = loss + weight * p
            terms[name] = p.detach()
        psnr = -10 * torch.log10(mse.detach().clamp_min(1e-10))
        return {"loss": loss, **terms, "psnr": psnr}

    # -- autoencoder API -------------------------------------------------------------------------
    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """video (B, 3, T, H, W) in [0, 1] -> latent (B, latent_dim, t, h, w), deterministic:
        the posterior mean (kl) or the quantized codes, values k / (L // 2) (fsq)."""
        self._check_video(video)
        h = self.encoder(self._pad(video))  # (B, C or 2C, t, h, w)
        if self.cfg.bottleneck == "kl":
            return h.chunk(2, dim=1)[0]  # (B, C, t, h, w)
        return self._quantize(h)  # (B, d, t, h, w)

    def decode(self, latent: torch.Tensor, num_frames: int, height: int,
               width: int) -> torch.Tensor:
        """latent (B, latent_dim, t, h, w) -> video (B, 3, num_frames, height, width) in [0, 1].

        The latent is made contiguous first: conv3d picks its kernel by memory layout, so a
        permuted view (such as ``indices_to_codes``'s) would decode to slightly different
        floats than the same values laid out densely."""
        return self._synthesis(latent.contiguous(), num_frames, height, width).clamp(0, 1)

    # -- discrete tokens (fsq only): what a token model such as VRC consumes -------------------
    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:
        """FSQ codes (B, d, t, h, w) -> token indices (B, t, h, w) in [0, codebook_size)."""
        self._need_fsq()
        return self.fsq.codes_to_indices(rearrange(codes, "b d t h w -> b t h w d"))

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:
        """Token indices (B, t, h, w) -> FSQ codes (B, d, t, h, w)."""
        self._need_fsq()
        return rearrange(self.fsq.indices_to_codes(indices), "b t h w d -> b d t h w").contiguous()

    @property
    def codebook_size(self) -> int:
        self._need_fsq()
        return self.fsq.codebook_size

    def _need_fsq(self) -> None:
        if self.cfg.bottleneck != "fsq":
            raise InputError("token indices need the discrete bottleneck (model.bottleneck=fsq)")

    # -- train-loop hooks ------------------------------------------------------------------------
    @torch.no_grad()
    def validation_metrics(self, batch: dict) -> dict[str, float]:
        video = batch["video"]
        _, _, T, H, W = video.shape
        latent = self.encode(video)
        mse = (self.decode(latent, T, H, W) - video).pow(2).mean()
        metrics = {"psnr": float(-10 * torch.log10(mse.clamp_min(1e-10))), "mse": float(mse)}
        if self.cfg.bottleneck == "fsq":
            used = self.codes_to_indices(latent).unique().numel()
            metrics["code_usage"] = used / self.codebook_size  # share of the codebook in this batch
        return metrics

    @torch.no_grad()
    def sample_images(self, batch: dict) -> torch.Tensor:
        """(2·b, 3, H, W): the middle frame of up to two clips, then its reconstruction."""
        video = batch["video"][:2]
        _, _, T, H, W = video.shape
        rec = self.decode(self.encode(video), T, H, W)
        mid = T // 2
        return torch.cat([video[:, :, mid], rec[:, :, mid]], dim=0)


__all__ = ["BOTTLENECKS", "CNN3D", "CNN3DConfig", "Decoder3d", "Encoder3d", "gaussian_kl",
           "latent_shape"]
