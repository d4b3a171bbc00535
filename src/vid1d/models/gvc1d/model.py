"""GVC1D: the 1D-latent learned video codec (papers/gvc1d.txt §3).

Per frame t (low delay; intra frames have empty context)::

             C_l = readout(memory_{t-1})        C_s = f_{t-1}
                 |                                  |
    x_t --pad--> Enc(E_t ⊕ L ⊕ C) --> y_t --÷q(λ), Q--> ŷ_t --AR prior(C, λ)--> bits
                                                      |
                                   Dec(ŷ_t·q ⊕ M ⊕ C) --> x̂_t, f_t (-> C_s of t+1)
                                                      |
                          memory_t = update(memory_{t-1}, ŷ_t)   (-> C_l of t+1)

Training: ``forward`` runs a clip through this recurrence (additive noise for
the rate and, by default, for the decoder's input; straight-through rounding for
the prior's and the memory's inputs) and returns
``{"x_hat", "likelihoods"}``; ``training_losses`` adds R + λ·D with λ sampled per
clip from the 8 levels. Coding: ``compress_frame`` / ``decompress_frame`` run
the same modules, with the prior evaluated token by token through exactly the
same incremental code on both sides (see ar_prior.py, tables.py). Inside
``fixed_point()`` (``--precision int``, the default) everything the probabilities and
the carried state depend on runs in integer networks instead (fixed.py), so the two
sides agree on any machine; the loop is the same, written against either arithmetic.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vid1d.codec import FrameCode
from vid1d.entropy.base import lower_bound
from vid1d.entropy.steps import StepDecoder, StepEncoder
from vid1d.errors import BitstreamError
from vid1d.metrics import ms_ssim, perceptual_net
from vid1d.models.gvc1d.ar_prior import ARTokenPrior
from vid1d.models.gvc1d.config import GVC1DConfig
from vid1d.models.gvc1d.decoder import GVC1DDecoder
from vid1d.models.gvc1d.encoder import GVC1DEncoder
from vid1d.models.gvc1d.lmbda import LambdaConditioning
from vid1d.models.gvc1d.memory import LongTermMemory
from vid1d.models.gvc1d.tables import build_tables, quantize_params
from vid1d.models.gvc1d.windows import pad_frame, padded_size


@dataclass
class CodingState:
    """What frame t+1 needs from frame t: short-term features and the memory."""

    short: torch.Tensor  # f_t (B, h, w, D)
    memory: torch.Tensor | None  # (B·N, M, D), None without memory
    frames: int = 1  # frames coded since the last intra frame


def ste_round(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


def gaussian_likelihood(v: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """P(v) for N(μ, σ²) * U(−½, ½), evaluated in the lower tail for accuracy."""
    d = (v - mu).abs()
    upper = 0.5 * torch.erfc((d - 0.5) / (sigma * math.sqrt(2.0)))
    lower = 0.5 * torch.erfc((d + 0.5) / (sigma * math.sqrt(2.0)))
    return lower_bound(upper - lower, 1e-9)


class GVC1D(nn.Module):
    model_type = "gvc1d"

    def __init__(self, cfg: GVC1DConfig):
        super().__init__()
        self.cfg = cfg
        self.lmbda = LambdaConditioning(cfg.lmbda_min, cfg.lmbda_max, cfg.num_lmbdas, cfg.cond_dim,
                                        cfg.qstep_init, cfg.qstep_slope)
        self.encoder = GVC1DEncoder(cfg)
        self.decoder = GVC1DDecoder(cfg)
        self.prior = ARTokenPrior(cfg)
        self.memory = LongTermMemory(cfg)
        self._tables = None

    # -- geometry and conditioning --------------------------------------------------------
    def grid(self, height: int, width: int) -> tuple[int, int]:
        """(windows down, windows across) for a frame of this size."""
        Hp, Wp = padded_size(height, width, self.cfg.window_px)
        return Hp // self.cfg.window_px, Wp // self.cfg.window_px

    def condition(self, quality: torch.Tensor, n_windows: int):
        lmbda, cond, log_q = self.lmbda(quality)  # (B,), (B, cond), (B,)
        cond_w = cond.repeat_interleave(n_windows, dim=0)  # (B·N, cond)
        qstep = log_q.exp().repeat_interleave(n_windows)[:, None, None]  # (B·N, 1, 1)
        return lmbda, cond, cond_w, qstep

    def _context(self, state: CodingState | None, cond_w: torch.Tensor):
        if state is None:  # intra: empty context
            return None, None
        return state.short, self.memory.readout(state.memory, cond_w)

    def _next_state(self, state: CodingState | None, y_int: torch.Tensor, feats: torch.Tensor,
                    cond_w: torch.Tensor) -> CodingState:
        mem = self.memory.initial_state(y_int.shape[0]) if state is None else state.memory
        mem = self.memory.update(mem, y_int, feats, cond_w)
        return CodingState(feats, mem, 1 if state is None else state.frames + 1)

    # -- training path ----------------------------------------------------------------------
    def forward(self, video: torch.Tensor, quality: torch.Tensor | None = None,
                training: bool | None = None, round_latents: bool = True) -> dict:
        """video (B, 3, T, H, W) in [0,1]; quality (B,) in [0, num_lmbdas-1].

        Returns ``{"x_hat": (B,3,T,H,W), "likelihoods": {"y": (B, T, N, Tk, C)},
        "lmbda": (B,)}``; frame 0 is intra, later frames use the recurrent context.
        ``round_latents=False`` (evaluation only) feeds the decoder, the prior's context
        and the memory the unrounded latents: the model's quality without quantization,
        its ceiling at any rate (the likelihoods are then not a rate).
        """
        training = self.training if training is None else training
        if training and not round_latents:
            raise ValueError("round_latents=False is for evaluation (training=False)")
        B, _, T, H, W = video.shape
        nh, nw = self.grid(H, W)
        if quality is None:
            quality = torch.full((B,), self.cfg.num_lmbdas - 1.0, device=video.device)
        lmbda, cond, cond_w, qstep = self.condition(quality, nh * nw)
        state, x_hats, liks = None, [], []
        for t in range(T):
            x = pad_frame(video[:, :, t], self.cfg.window_px)  # (B, 3, H', W')
            short, long = self._context(state, cond_w)
            y = self.encoder(x, short, long, cond) / qstep  # (B·N, Tk, C)
            y_int = ste_round(y) if round_latents else y
            y_noisy = y + torch.empty_like(y).uniform_(-0.5, 0.5) if training else y_int
            mu, log_sigma = self.prior(y_int, short, long, cond_w)
            liks.append(gaussian_likelihood(y_noisy, mu, log_sigma.exp()))
            y_dec = y_noisy if self.cfg.train_quant == "noise" else y_int
            x_hat, feats = self.decoder(y_dec * qstep, short, long, cond, B, nh, nw)
            x_hats.append(x_hat[..., :H, :W])
            state = self._next_state(state, y_int, feats, cond_w)
        likelihoods = torch.stack([lk.reshape(B, nh * nw, *lk.shape[1:]) for lk in liks], dim=1)
        return {"x_hat": torch.stack(x_hats, dim=2), "likelihoods": {"y": likelihoods},
                "lmbda": lmbda}

    def training_losses(self, batch: dict, step: int) -> dict[str, torch.Tensor]:
        """R + λ·D with λ drawn per clip from the trained levels (§4.1)."""
        video = batch["video"]
        B, _, T, H, W = video.shape
        quality = torch.randint(0, self.cfg.num_lmbdas, (B,), device=video.device).float()
        out = self(video, quality)
        bits = -torch.log2(out["likelihoods"]["y"]).reshape(B, -1).sum(dim=1)  # (B,)
        bpp = bits / (T * H * W)
        mse = (out["x_hat"] - video).pow(2).mean(dim=(1, 2, 3, 4))  # (B,)
        distortion = mse
        if self.cfg.msssim_weight > 0:
            frames = out["x_hat"].clamp(0, 1).transpose(1, 2).flatten(0, 1)
            ref = video.transpose(1, 2).flatten(0, 1)
            d_ms = (1 - ms_ssim(frames, ref)).reshape(B, T).mean(dim=1)
            distortion = (1 - self.cfg.msssim_weight) * mse + self.cfg.msssim_weight * d_ms
        terms = {}
        for name, weight in (("lpips", self.cfg.lpips_weight), ("dists", self.cfg.dists_weight),
                             ("stlpips", self.cfg.stlpips_weight)):
            if weight > 0:
                frames = out["x_hat"].transpose(1, 2).flatten(0, 1)
                ref = video.transpose(1, 2).flatten(0, 1)
                d = perceptual_net(self, name)(frames, ref).reshape(B, T).mean(dim=1)
                distortion = distortion + weight * d
                terms[name] = d.mean().detach()
        loss = (bpp + out["lmbda"] * self.cfg.distortion_scale * distortion).mean()
        psnr = -10 * torch.log10(mse.detach().clamp_min(1e-10))
        return {"loss": loss, "bpp": bpp.mean().detach(), "mse": mse.mean().detach(),
                "psnr": psnr.mean(), **terms}

    @torch.no_grad()
    def validation_metrics(self, batch: dict) -> dict[str, float]:
        video = batch["video"]
        B, _, T, H, W = video.shape
        out = self(video, training=False)  # quality None: the top level
        bits = -torch.log2(out["likelihoods"]["y"]).sum()
        mse = (out["x_hat"].clamp(0, 1) - video).pow(2).mean()
        return {"bpp": float(bits / (B * T * H * W)), "psnr": float(-10 * torch.log10(mse))}

    @torch.no_grad()
    def sample_images(self, batch: dict) -> torch.Tensor:
        video = batch["video"][:2]
        out = self(video, training=False)  # quality None: the top level
        last = video.shape[2] - 1
        return torch.cat([video[:, :, last], out["x_hat"][:, :, last].clamp(0, 1)], dim=0)

    # -- coding path --------------------------------------------------------------------------
    def update(self, force: bool = False) -> None:
        """Build the integer coding tables (a fixed function of the config; idempotent)."""
        if force or self._tables is None:
            self._tables = build_tables()

    @property
    def tables(self):
        if self._tables is None:
            self.update()
        return self._tables

    def quality_for_lmbda(self, lmbda: float) -> float:
        return self.lmbda.quality_for_lmbda(lmbda)

    def lmbda_for_quality(self, quality: float) -> float:
        return float(self.lmbda(self._quality(quality))[0][0])

    def _quality(self, quality: float) -> torch.Tensor:
        """(1,) on the model's device. The header stores quality as float32: code with
        exactly that value."""
        return torch.tensor([float(np.float32(quality))], device=self.lmbda.lmbdas.device)

    @contextlib.contextmanager
    def fixed_point(self):
        """Code with the integer networks (fixed.py) inside the block: built from the
        current weights on entry, dropped on exit."""
        from vid1d.models.gvc1d.fixed import FixedGVC1D

        self._fixed = FixedGVC1D(self)
        try:
            yield self
        finally:
            self._fixed = None

    def _coding(self, quality: float, n_windows: int):
        """The arithmetic of the coding path: the integer mirror inside
        :meth:`fixed_point`, else the float modules (in their current dtype)."""
        fixed = self.__dict__.get("_fixed")
        if fixed is not None:
            return fixed.start_frame(quality, n_windows)
        return FloatCoding(self, quality, n_windows)

    @torch.no_grad()
    def compress_frame(self, x: torch.Tensor, state: CodingState | None, quality: float
                       ) -> tuple[FrameCode, torch.Tensor, CodingState]:
        """x (1, 3, H, W) in [0,1]; ``state=None`` codes an intra frame."""
        H, W = x.shape[-2:]
        nh, nw = self.grid(H, W)
        coding = self._coding(quality, nh * nw)
        short, long = coding.context(state)
        y = self.encoder(pad_frame(x, self.cfg.window_px), *coding.encoder_context(short, long),
                         coding.cond) / coding.qstep
        y_int = torch.round(y)  # (N, Tk, C) integers
        enc = StepEncoder(self.tables)
        ar = coding.prior_start(short, long)
        prev = None
        while ar.position < self.cfg.tokens:
            i = ar.position
            index, base = coding.prior_step(ar, prev)  # (N, k, C) each
            k = index.shape[1]
            sym = y_int[:, i : i + k].to(torch.int64).cpu().numpy() - base
            enc.push(sym.astype(np.int32), index)
            prev = y_int[:, i : i + k].to(coding.token_dtype)
        y_int = y_int.to(coding.token_dtype)
        x_hat, feats = coding.decode(y_int, short, long, nh, nw)
        code = FrameCode(enc.finish(), y_int.to(torch.int32).cpu().numpy(), enc.estimated_bits)
        return code, x_hat[..., :H, :W].clamp(0, 1), coding.next_state(state, y_int, feats)

    @torch.no_grad()
    def decompress_frame(self, data: bytes, state: CodingState | None, quality: float,
                         height: int, width: int, device: str | torch.device = "cpu"
                         ) -> tuple[torch.Tensor, np.ndarray, CodingState]:
        """Inverse of :meth:`compress_frame`: (x̂ (1,3,H,W), decoded symbols, next state)."""
        nh, nw = self.grid(height, width)
        coding = self._coding(quality, nh * nw)
        short, long = coding.context(state)
        dec = StepDecoder(data, self.tables)
        ar = coding.prior_start(short, long)
        tokens, prev = [], None
        while ar.position < self.cfg.tokens:
            index, base = coding.prior_step(ar, prev)
            sym = dec.pull(index).astype(np.int64) + base
            prev = torch.from_numpy(sym).to(device=device, dtype=coding.token_dtype)
            tokens.append(prev)
        dec.finish()
        y_int = torch.cat(tokens, dim=1)  # (N, Tk, C)
        if not torch.isfinite(y_int).all() or y_int.abs().max() > 2**20:
            raise BitstreamError("decoded latents out of range (corrupt stream)")
        x_hat, feats = coding.decode(y_int, short, long, nh, nw)
        return (x_hat[..., :height, :width].clamp(0, 1), y_int.to(torch.int32).cpu().numpy(),
                coding.next_state(state, y_int, feats))


class FloatCoding:
    """The coding path's arithmetic in the float modules of a :class:`GVC1D` (one frame);
    ``fixed.FixedGVC1D`` has the same interface in integers."""

    def __init__(self, model: GVC1D, quality: float, n_windows: int):
        self.model = model
        _, self.cond, self.cond_w, self.qstep = model.condition(model._quality(quality), n_windows)
        self.token_dtype = self.qstep.dtype

    def context(self, state: CodingState | None):
        return self.model._context(state, self.cond_w)

    def encoder_context(self, short, long):
        return short, long

    def prior_start(self, short, long):
        return self.model.prior.start(short, long, self.cond_w)

    def prior_step(self, ar, prev) -> tuple[np.ndarray, np.ndarray]:
        return quantize_params(*self.model.prior.step(ar, prev))

    def decode(self, y_int: torch.Tensor, short, long, nh: int, nw: int):
        return self.model.decoder(y_int * self.qstep, short, long, self.cond, 1, nh, nw)

    def next_state(self, state: CodingState | None, y_int: torch.Tensor, feats: torch.Tensor):
        return self.model._next_state(state, y_int, feats, self.cond_w)
