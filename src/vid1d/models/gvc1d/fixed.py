"""GVC1D's integer coding path: bit-exact on any machine by construction.

Everything the entropy model's probabilities depend on is recomputed here in
fixed-point integers (:mod:`vid1d.nn.fixed`): the λ conditioning, the decoder's
transformer up to the features f_t (the next frame's short-term context), the
long-term memory and the AR prior. Encoder and decoder both run these integer
networks, so the table indices (and the state carried to the next frame) are the
same on a CPU and a GPU, with any thread count or BLAS. What stays in floating
point cannot desynchronise the decoder: the analysis transform (only the encoder
runs it; its output is rounded and coded) and the convolutional pixel head (it
reads f_t and writes x̂_t, which nothing else reads).

Built from a trained float model (post-training quantization, no retraining) by
``GVC1D.fixed_point()``; the coding loop in ``model.py`` drives it through the
same interface as the float path (:class:`FloatCoding`). Batch 1 only, as coding is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from einops import rearrange

from vid1d.entropy.detmath import det_exp
from vid1d.models.gvc1d.encoder import LONG, PATCH, SHORT, TOKEN
from vid1d.models.gvc1d.model import CodingState
from vid1d.models.gvc1d.tables import quantize_params_fixed
from vid1d.models.gvc1d.windows import from_windows, to_windows
from vid1d.nn.fixed import (
    FRAC,
    ONE,
    FixedBlock,
    FixedKVCache,
    FixedLayerNorm,
    FixedLinear,
    rope_fixed,
    round_shift,
    saturate,
    to_fixed,
    to_float,
)

QUALITY_FRAC = 16  # quality and the quantization step are fixed-point at 2^16


def _proj(seq) -> tuple[FixedLayerNorm, FixedLinear]:
    """nn.Sequential(LayerNorm, Linear) -> its two integer layers."""
    return FixedLayerNorm.from_float(seq[0]), FixedLinear.from_float(seq[1])


class _Context:
    """Integer :class:`~vid1d.models.gvc1d.encoder.ContextTokens` (the decoder's)."""

    def __init__(self, m):
        self.window = m.cfg.window
        grid_pos, token_pos, te = to_fixed(m.grid_pos), to_fixed(m.token_pos), to_fixed(m.type_embed)
        self.add = [grid_pos + te[PATCH], grid_pos + te[SHORT], token_pos + te[TOKEN],
                    token_pos + te[LONG]]
        self.short_proj, self.long_proj = _proj(m.short_proj), _proj(m.long_proj)
        self.empty_short, self.empty_long = to_fixed(m.empty_short), to_fixed(m.empty_long)

    def assemble(self, grid_w, tokens_w, short, long):
        bn, p, d = grid_w.shape
        ln, lin = self.short_proj
        short_w = (self.empty_short.expand(bn, p, d) if short is None
                   else lin(ln(to_windows(short, self.window))))
        ln, lin = self.long_proj
        long_w = self.empty_long.expand(bn, -1, -1) if long is None else lin(ln(long))
        parts = [grid_w, short_w, tokens_w, long_w]
        return saturate(torch.cat([x + a for x, a in zip(parts, self.add, strict=True)], dim=1))


class _LocalGlobal:
    """Integer :class:`~vid1d.models.gvc1d.transformer.LocalGlobalTransformer`."""

    def __init__(self, m):
        self.head_dim = m.head_dim
        self.local = [[FixedBlock(layer) for layer in layers] for layers in m.local]
        self.glob = [FixedBlock(layer) for layer in m.glob]
        self._rope: tuple | None = None  # (key, tables) of the last frame size

    def blocks(self) -> list[FixedBlock]:
        return [b for layers in self.local for b in layers] + self.glob

    def rope(self, coords: torch.Tensor, key, device):
        """Integer RoPE tables (local, global) for this frame size, kept while it lasts."""
        if self._rope is None or self._rope[0] != key:
            local = rope_fixed(coords[0] - coords[0].amin(dim=0), self.head_dim)
            glob = rope_fixed(coords.reshape(-1, 2), self.head_dim)
            self._rope = (key, tuple(tuple(t.to(device) for t in r) for r in (local, glob)))
        return self._rope[1]

    def __call__(self, x, coords, key):
        n_win, seq = coords.shape[:2]
        local_rope, global_rope = self.rope(coords, key, x.device)
        for local_layers, global_layer in zip(self.local, self.glob, strict=True):
            for layer in local_layers:
                x = layer(x, rope=local_rope)  # (N, S, D)
            x = global_layer(rearrange(x, "n s d -> 1 (n s) d"), rope=global_rope)  # (1, N·S, D)
            x = rearrange(x, "1 (n s) d -> n s d", n=n_win)  # (N, S, D)
        return x


class _Memory:
    """Integer :class:`~vid1d.models.gvc1d.memory.LongTermMemory`."""

    def __init__(self, m):
        self.enabled, self.kind, self.window = m.enabled, m.kind, m.cfg.window
        if not self.enabled:
            return
        self.tokens = m.cfg.tokens
        self.init_state = to_fixed(m.init_state)
        self.in_lin = FixedLinear.from_float(m.in_proj[0])
        self.in_norm = FixedLayerNorm.from_float(m.in_proj[1])
        self.in_type = to_fixed(m.in_type)
        self.update_layers = [FixedBlock(layer) for layer in m.update_layers]
        self.queries = to_fixed(m.queries)
        self.readout_layers = [FixedBlock(layer) for layer in m.readout_layers]
        self.out_norm = FixedLayerNorm.from_float(m.out_norm)

    def blocks(self) -> list[FixedBlock]:
        return self.update_layers + self.readout_layers if self.enabled else []

    def initial_state(self, n: int):
        return self.init_state.expand(n, -1, -1) if self.enabled else None

    def readout(self, state):
        if state is None:
            return None
        x = torch.cat([self.queries.expand(state.shape[0], -1, -1), state], dim=1)
        for layer in self.readout_layers:
            x = layer(x)
        return self.out_norm(x[:, : self.tokens])

    def update(self, state, y_int, feats):
        """y_int (N, T, C) int64 token values; feats (1, h, w, D) fixed."""
        if state is None:
            return None
        incoming = saturate(y_int * ONE) if self.kind == "1d" else to_windows(feats, self.window)
        incoming = saturate(self.in_norm(self.in_lin(incoming)) + self.in_type[1])
        M = state.shape[1]
        x = saturate(torch.cat([state + self.in_type[0], incoming], dim=1))
        for layer in self.update_layers:
            x = layer(x)
        return x[:, :M]


@dataclass
class FixedARState:
    caches: list[FixedKVCache]
    position: int = 0


class _Prior:
    """Integer :class:`~vid1d.models.gvc1d.ar_prior.ARTokenPrior`, incremental path."""

    def __init__(self, m):
        cfg = m.cfg
        self.ar, self.window, self.patches = cfg.ar, cfg.window, cfg.patches_per_window
        self.long_proj, self.short_proj = _proj(m.long_proj), _proj(m.short_proj)
        self.empty_long, self.empty_short = to_fixed(m.empty_long), to_fixed(m.empty_short)
        self.prefix_pos = to_fixed(m.prefix_pos)
        self.in_proj = FixedLinear.from_float(m.in_proj)
        self.bos, self.token_pos = to_fixed(m.bos), to_fixed(m.token_pos)
        self.layers = [FixedBlock(layer) for layer in m.layers]
        self.norm = FixedLayerNorm.from_float(m.norm)
        self.out = FixedLinear.from_float(m.out)

    def start(self, short, long, n: int) -> FixedARState:
        if long is None:
            long_w = self.empty_long.expand(n, -1, -1)
        else:
            ln, lin = self.long_proj
            long_w = lin(ln(long))
        if short is None:
            short_w = self.empty_short.expand(n, self.patches, -1)
        else:
            ln, lin = self.short_proj
            short_w = lin(ln(to_windows(short, self.window)))
        x = saturate(torch.cat([long_w, short_w], dim=1) + self.prefix_pos)
        caches = [FixedKVCache() for _ in self.layers]
        for layer, cache in zip(self.layers, caches, strict=True):
            x = layer(x, cache=cache)
        return FixedARState(caches)

    def step(self, state: FixedARState, y_prev: torch.Tensor | None, n: int):
        """(μ, log σ) at 2^FRAC of the next token(s), given ŷ (int64) of the previous one."""
        i = state.position
        if not self.ar:
            x = self.token_pos.expand(n, -1, -1)
        elif y_prev is None:
            x = (self.bos + self.token_pos[i : i + 1]).expand(n, -1, -1)
        else:
            x = saturate(self.in_proj(saturate(y_prev * ONE)) + self.token_pos[i : i + 1])
        for layer, cache in zip(self.layers, state.caches, strict=True):
            x = layer(x, cache=cache)
        state.position += x.shape[1]
        return self.out(self.norm(x)).chunk(2, dim=-1)


class FixedGVC1D:
    """The integer mirror of a GVC1D model's decoder side (module docstring)."""

    token_dtype = torch.int64

    def __init__(self, model):
        cfg = model.cfg
        self.model = model
        self.embed = to_fixed(model.lmbda.embed)  # (levels, cond_dim)
        self.log_qstep = model.lmbda.log_qstep.detach().double().cpu().numpy()
        dec = model.decoder
        self.mask_token = to_fixed(dec.mask_token)
        self.from_latent = FixedLinear.from_float(dec.from_latent)
        self.context_tokens = _Context(dec.context)
        self.transformer = _LocalGlobal(dec.transformer)
        self.norm = FixedLayerNorm.from_float(dec.norm)
        self.memory = _Memory(model.memory)
        self.prior = _Prior(model.prior)
        self.cfg = cfg
        self.quality: float | None = None

    def blocks(self) -> list[FixedBlock]:
        return self.transformer.blocks() + self.memory.blocks() + self.prior.layers

    # -- the interface of FloatCoding ------------------------------------------------------
    def start_frame(self, quality: float, n_windows: int) -> FixedGVC1D:
        """Set λ's conditioning (integer interpolation between the trained levels) and
        the quantization step; both are constant over a stream, so computed once."""
        self.n = n_windows
        if quality == self.quality:
            return self
        top = (len(self.log_qstep) - 1) << QUALITY_FRAC
        q = min(max(round(float(np.float32(quality)) * (1 << QUALITY_FRAC)), 0), top)
        lo = q >> QUALITY_FRAC
        hi = min(lo + 1, len(self.log_qstep) - 1)
        w = q - (lo << QUALITY_FRAC)
        cond = saturate(round_shift(self.embed[lo] * ((1 << QUALITY_FRAC) - w)
                                    + self.embed[hi] * w, QUALITY_FRAC))[None]  # (1, cond_dim)
        for block in self.blocks():
            if block.ada is not None:
                block.condition(cond)
        log_q = (self.log_qstep[lo] * float((1 << QUALITY_FRAC) - w)
                 + self.log_qstep[hi] * float(w)) / float(1 << QUALITY_FRAC)
        self.qstep_int = int(np.rint(det_exp(log_q) * (1 << QUALITY_FRAC)))
        dtype = self.model.lmbda.embed.dtype
        self.cond = to_float(cond, dtype)
        self.qstep = torch.tensor(self.qstep_int / (1 << QUALITY_FRAC), dtype=dtype,
                                  device=cond.device)
        self.quality = quality
        return self

    def context(self, state):
        if state is None:
            return None, None
        return state.short, self.memory.readout(state.memory)

    def encoder_context(self, short, long):
        dtype = self.cond.dtype
        return (None if short is None else to_float(short, dtype),
                None if long is None else to_float(long, dtype))

    def prior_start(self, short, long) -> FixedARState:
        return self.prior.start(short, long, self.n)

    def prior_step(self, ar: FixedARState, prev):
        mu, log_sigma = self.prior.step(ar, prev, self.n)
        return quantize_params_fixed(mu, log_sigma)

    def decode(self, y_int: torch.Tensor, short, long, nh: int, nw: int):
        """y_int (N, T, C) int64 -> (x̂ float (1, 3, H', W'), f_t fixed (1, h, w, D))."""
        P = self.cfg.patches_per_window
        y = saturate(round_shift(y_int * self.qstep_int, QUALITY_FRAC - FRAC))  # ŷ·q at 2^FRAC
        tokens = self.from_latent(y)
        grid_w = self.mask_token.expand(y_int.shape[0], P, -1)
        seq = self.context_tokens.assemble(grid_w, tokens, short, long)
        coords = self.model.decoder.context.coords(nh, nw, y_int.device)
        seq = self.transformer(seq, coords, (nh, nw))
        feats = from_windows(self.norm(seq[:, :P]), 1, nh, nw, self.cfg.window)
        x_hat = self.model.decoder.head(to_float(feats, self.cond.dtype))
        return x_hat, feats

    def next_state(self, state, y_int: torch.Tensor, feats: torch.Tensor):
        mem = self.memory.initial_state(y_int.shape[0]) if state is None else state.memory
        mem = self.memory.update(mem, y_int, feats)
        return CodingState(feats, mem, 1 if state is None else state.frames + 1)
