"""One-DVA: the adaptive 1D video diffusion autoencoder (papers/onedva.txt §3).

::

    video --Enc--> posterior (μ, σ) of [structural | 1D] --sample--> z
    z --tail dropout (stage ≥ 2, motion-driven length)--> z_l
    x_t = (1−t)·x_0 + t·ε --Dec(x_t, t, z_l)--> v̂        L_diff = ‖v̂ − (ε − x_0)‖²
    x̂_0 = x_t − t·v̂  -> perceptual (LPIPS); Dec features -> REPA; μ, σ -> KL

Training stages (``cfg.stage``, §3.4–3.5): 1 = deterministic pretraining (t ≡ 1, no
dropout: the decoder sees pure noise, so the latents must carry everything);
2 = stochastic post-training (thick-tailed logit-normal t, length dropout);
3 = stage 2 + the latent self-alignment regularizer. Decoding integrates the
flow from t = 1 with Euler steps (``vid1d.flow``) from seeded noise.

Pixels are in [0, 1] at the API and in [−1, 1] inside.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from vid1d import flow
from vid1d.errors import InputError
from vid1d.models.onedva.config import OneDVAConfig
from vid1d.models.onedva.decoder import OneDVADecoder
from vid1d.models.onedva.encoder import OneDVAEncoder, Posterior, latent_counts
from vid1d.models.onedva.length import (
    MotionScore,
    inference_length,
    keep_mask,
    raw_motion_score,
    training_lengths,
)

log = logging.getLogger(__name__)


@dataclass
class Latents:
    """A tokenized clip: the hybrid latent and the 1D length actually kept."""

    struct: torch.Tensor  # (B, hs·ws, C)
    oned: torch.Tensor  # (B, n1d, C), positions >= length are unused
    length: torch.Tensor  # (B,) kept 1D latents
    shape: tuple[int, int, int]  # (T, H, W) of the clip

    def keep(self) -> torch.Tensor:
        return keep_mask(self.length, self.oned.shape[1])


def alignment_similarities(oned: torch.Tensor, struct: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """§3.5's two similarities, (B, n1d) each: every 1D latent's top-1 cosine to the
    structural latents, and its cosine to its nearest other 1D latent (None for n1d < 2)."""
    o, s = F.normalize(oned, dim=-1), F.normalize(struct, dim=-1)
    to_struct = torch.einsum("bnc,bmc->bnm", o, s).amax(dim=-1)
    if oned.shape[1] < 2:
        return to_struct, None
    self_sim = torch.einsum("bnc,bmc->bnm", o, o)
    eye = torch.eye(oned.shape[1], dtype=torch.bool, device=oned.device)
    return to_struct, self_sim.masked_fill(eye, -2.0).amax(dim=-1)


def alignment_loss(oned: torch.Tensor, struct: torch.Tensor) -> torch.Tensor:
    """§3.5 self-alignment, per sample (B,): each 1D latent's top-1 cosine distance to the
    structural latents, plus its cosine distance to its nearest other 1D latent."""
    to_struct, nearest = alignment_similarities(oned, struct)
    loss = (1 - to_struct).mean(dim=1)
    return loss if nearest is None else loss + (1 - nearest).mean(dim=1)


class OneDVA(nn.Module):
    model_type = "onedva"

    def __init__(self, cfg: OneDVAConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = OneDVAEncoder(cfg)
        self.decoder = OneDVADecoder(cfg)
        self.motion = MotionScore(cfg.motion_ema)
        self.repa_proj = None
        if cfg.w_repa > 0 and cfg.repa:
            # VGG16 relu3_3 has 256 channels (the only REPA target network we load)
            self.repa_proj = nn.Sequential(nn.Linear(cfg.dim, cfg.dim), nn.SiLU(), nn.Linear(cfg.dim, 256))

    # -- feature networks (frozen, loaded from files, never saved with the model) ------------
    def _feature_net(self, name: str):
        """``"lpips"`` (its VGG trunk doubles as the REPA target) or ``"stlpips"``; None,
        logged once, when its weights are not available."""
        missing = self.__dict__.setdefault("_missing_feature_nets", set())
        if name in missing:
            return None
        from vid1d.metrics import perceptual_net

        try:
            return perceptual_net(self, name)
        except InputError as err:
            missing.add(name)
            uses = [term for term, net in (("perceptual", self.cfg.perceptual),
                                           ("REPA", "lpips" if self.cfg.repa else ""))
                    if net == name]
            log.warning("One-DVA: %s term%s OFF (%s)", " and ".join(uses),
                        "s are" if len(uses) > 1 else " is", err)
            return None

    # -- training path ---------------------------------------------------------------------
    def training_losses(self, batch: dict, step: int) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        video = batch["video"]  # (B, 3, T, H, W) in [0, 1]
        B, _, T, H, W = video.shape
        x0 = video * 2 - 1
        post = self.encoder(x0)
        struct, oned = post.sample()
        n1d = oned.shape[1]
        if cfg.stage == 1:
            t = flow.sample_timesteps(B, mode="one", device=video.device)
            keep = None
        else:
            t = flow.sample_timesteps(B, mean=cfg.t_mean, std=cfg.t_std, p_max=cfg.t_p_max,
                                      device=video.device)
            raw = raw_motion_score(video)
            self.motion.update(raw)
            lengths = training_lengths(self.motion.normalized(raw), n1d, p_full=cfg.p_full,
                                       p_struct_only=cfg.p_struct_only)
            keep = keep_mask(lengths, n1d)
        noise = torch.randn_like(x0)
        x_t = flow.interpolate(x0, noise, t)
        use_repa = self.repa_proj is not None and self._feature_net("lpips") is not None
        out = self.decoder(x_t, t, struct, oned, keep,
                           return_features=cfg.repa_depth if use_repa else None)
        v, feats = out if use_repa else (out, None)
        diff = flow.flow_loss(v, x0, noise)  # (B,)
        kl = post.kl()
        loss = cfg.w_diff * diff + cfg.w_kl * kl
        terms = {"diff": diff.mean().detach(), "kl": kl.mean().detach()}
        x0_hat = flow.predict_x0(x_t, v, t)
        mse = ((x0_hat.clamp(-1, 1) - x0) / 2).pow(2).mean(dim=(1, 2, 3, 4))
        perc = self._feature_net(cfg.perceptual) if cfg.w_perceptual > 0 and cfg.perceptual else None
        frame = torch.randint(0, T, (1,)).item()  # one random frame per step keeps VGG affordable
        if perc is not None:
            p = perc((x0_hat[:, :, frame].clamp(-1, 1) + 1) / 2, video[:, :, frame])  # (B,)
            loss = loss + cfg.w_perceptual * p
            terms["perceptual"] = p.mean().detach()
        if use_repa:
            r = self._repa(feats, video)
            loss = loss + cfg.w_repa * r
            terms["repa"] = r.mean().detach()
        if cfg.stage == 3:
            a = alignment_loss(post.oned_mean, post.struct_mean) if n1d else loss.new_zeros(B)
            loss = loss + cfg.w_align * a
            terms["align"] = a.mean().detach()
        psnr = -10 * torch.log10(mse.detach().clamp_min(1e-10))
        return {"loss": loss.mean(), "psnr": psnr.mean(), **terms}

    def _repa(self, feats: torch.Tensor, video: torch.Tensor) -> torch.Tensor:
        """REPA (Yu et al. 2024): cosine between projected decoder features at the noisy
        positions and frozen VGG features of the clean frames, pooled to the patch grid
        and averaged over each temporal patch. Returns (B,) = 1 − cos."""
        cfg = self.cfg
        B, _, T, H, W = video.shape
        Tp = -(-T // cfg.dec_patch_t) * cfg.dec_patch_t
        h = -(-H // cfg.latent_s) * cfg.latent_s // cfg.patch_s  # the decoder's patch grid
        w = -(-W // cfg.latent_s) * cfg.latent_s // cfg.patch_s
        frames = rearrange(video, "b c t h w -> (b t) c h w")
        vgg = self._feature_net("lpips")
        with torch.no_grad():
            x = (frames * 2 - 1 - vgg.shift) / vgg.scale
            target = vgg.features.taps(x)[2]  # (B·T, 256, H/4, W/4)
            target = F.adaptive_avg_pool2d(target, (h, w))
            target = rearrange(target, "(b t) c h w -> b c t h w", b=B)
            if Tp > T:
                target = torch.cat([target, target[:, :, -1:].expand(-1, -1, Tp - T, -1, -1)], dim=2)
            target = rearrange(target, "b c (t p) h w -> b (t h w) c", p=cfg.dec_patch_t, h=h)
        pred = self.repa_proj(feats)  # (B, t·h·w, 256)
        return 1 - F.cosine_similarity(pred, target, dim=-1).mean(dim=1)  # (B,)

    # -- tokenizer API -------------------------------------------------------------------------
    def motion_score(self, video: torch.Tensor) -> torch.Tensor:
        """Normalized motion score ŝ (B,) of clips in [0, 1], with the trained statistics."""
        return self.motion.normalized(raw_motion_score(video))

    @torch.no_grad()
    def encode(self, video: torch.Tensor, length: str | float | int = 1.0) -> Latents:
        """video (B, 3, T, H, W) in [0, 1] -> Latents (posterior means).

        ``length``: ``"adaptive"`` (motion score), a fraction of the 1D latents
        (1.0 = all, 0.0 = structural only) or a token budget (int).
        """
        B, _, T, H, W = video.shape
        post = self.encoder(video * 2 - 1)
        n1d = post.oned_mean.shape[1]
        if length == "adaptive":
            scores = self.motion_score(video).tolist()
            lengths = [inference_length("adaptive", n1d, s) for s in scores]
        else:
            lengths = [inference_length(length, n1d)] * B
        return Latents(post.struct_mean, post.oned_mean,
                       torch.tensor(lengths, dtype=torch.long, device=video.device), (T, H, W))

    @torch.no_grad()
    def decode(self, latents: Latents, steps: int = 1, seed: int = 0,
               on_step=None) -> torch.Tensor:
        """Latents -> video (B, 3, T, H, W) in [0, 1]: Euler from seeded noise at t = 1."""
        T, H, W = latents.shape
        B = latents.struct.shape[0]
        g = torch.Generator().manual_seed(seed)
        noise = torch.randn(B, 3, T, H, W, generator=g).to(latents.struct)
        keep = latents.keep()
        x0 = flow.euler_sample(lambda x, t: self.decoder(x, t, latents.struct, latents.oned, keep),
                               noise, steps, on_step=on_step)
        return ((x0 + 1) / 2).clamp(0, 1)

    def latent_counts(self, frames: int, height: int, width: int) -> tuple[int, int]:
        return latent_counts(self.cfg, frames, height, width)

    # -- train-loop hooks -----------------------------------------------------------------------
    @torch.no_grad()
    def validation_metrics(self, batch: dict) -> dict[str, float]:
        video = batch["video"]
        out = {}
        for name, length in (("psnr", 1.0), ("psnr_struct", 0.0)):
            rec = self.decode(self.encode(video, length), steps=self.cfg.val_steps)
            out[name] = float(-10 * torch.log10((rec - video).pow(2).mean().clamp_min(1e-10)))
        return out

    @torch.no_grad()
    def sample_images(self, batch: dict) -> torch.Tensor:
        video = batch["video"][:2]
        mid = video.shape[2] // 2
        rec = self.decode(self.encode(video), steps=self.cfg.val_steps)
        return torch.cat([video[:, :, mid], rec[:, :, mid]], dim=0)


__all__ = ["Latents", "OneDVA", "Posterior", "alignment_loss", "alignment_similarities"]
