"""Fixed-point (integer) inference for the transformer layers of vid1d.nn.

Why: an entropy model's probabilities must be identical in encoder and decoder.
Float networks give slightly different results on different devices and
libraries (summation order, FMA, vectorised ``exp``), and a difference near a
table-index boundary breaks the decode (DESIGN.md "Contracts"; Ballé et al. 2019,
"Integer networks for data compression"). Here every value is an integer and
every operation has one exact result on any machine:

* activations are int64 tensors at scale ``2^FRAC`` (value = int / 4096),
  saturated to ``±ACT_MAX``; weights are integers at a per-tensor power-of-two
  scale with ``|w| < 2^WEIGHT_BITS``;
* a matrix product is carried in float64: every product and every partial sum
  is an integer below 2^53, so each floating-point operation is exact and the
  result does not depend on the order of summation, blocking or FMA use (BLAS on
  a CPU, cuBLAS on a GPU). The bound is checked when a layer is built;
* rescaling is a rounding integer division (``round_shift``); LayerNorm uses an
  exact integer square root; GELU, SiLU and exp are tables built with
  :mod:`vid1d.entropy.detmath` (exactly rounded float64 operations only);
  RoPE's cos/sin tables likewise.

The layers are built from trained float modules (``from_float``): post-training
quantization, no retraining. They mirror :class:`~vid1d.nn.Attention` (RoPE and
the KV cache; no masks, no qk-norm) and :class:`~vid1d.nn.TransformerBlock`
(plain or adaLN-conditioned).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from einops import rearrange
from torch import nn

from vid1d.entropy.detmath import det_exp, det_normal_cdf, det_sincos

FRAC = 12  # fractional bits of activations
ONE = 1 << FRAC
ACT_MAX = (1 << 20) - 1  # saturation: |value| < 256
WEIGHT_BITS = 15  # |w_int| < 2^15
MAX_WEIGHT_FRAC = 24
EXP_BITS = 16  # attention weights: round(2^16 · e^-z), z = max logit − logit
EXP_RANGE = 12  # 2^16 · e^-12 < 0.5: logits further below the max get weight 0
ROPE_BITS = 14
KEY_BLOCK = 1 << 16  # keys per exact product Σ e v: |Σ| <= 2^16 · 2^EXP_BITS · ACT_MAX < 2^53
_LN_10000 = 9.210340371976184  # ln(10000) correctly rounded: a literal, not libm's log
EXACT = 1 << 53  # float64 represents every integer below this


def round_shift(x: torch.Tensor, bits: int) -> torch.Tensor:
    """round(x / 2^bits), halves up, for int64 x (exact; ``>>`` on signed integers is
    an arithmetic shift, i.e. floor division, in torch on every device)."""
    if bits <= 0:
        return x * (1 << -bits)
    return (x + (1 << (bits - 1))) >> bits


def round_div(x: torch.Tensor, d: torch.Tensor | int) -> torch.Tensor:
    """round(x / d), halves up, for int64 x and positive int64 d (exact). Integer
    division is slow: for many elements per divisor, :func:`reciprocal` instead."""
    return torch.div(2 * x + d, 2 * d, rounding_mode="floor")


def reciprocal(d: torch.Tensor, bits: int) -> torch.Tensor:
    """floor(2^bits / d) for positive int64 d: multiplying by it and shifting by
    ``bits`` divides with relative error below d / 2^bits."""
    return torch.div(torch.full_like(d, 1 << bits), d, rounding_mode="floor")


def saturate(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(-ACT_MAX, ACT_MAX)


def to_fixed(x: torch.Tensor, frac: int = FRAC) -> torch.Tensor:
    """Float tensor -> int64 at scale 2^frac (round half to even, in float64: exact
    for float32/float16 inputs, the same on every machine)."""
    return torch.round(x.detach().double() * (1 << frac)).long()


def to_float(x: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return (x.double() / ONE).to(dtype)


def check_exact(bound: float, what: str) -> None:
    if bound >= EXACT:
        raise ValueError(f"fixed-point {what}: partial sums up to 2^{math.log2(bound):.1f} "
                         "would not be exact in float64 (limit 2^53)")


def float64_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The one matrix product of this module: float64 tensors holding integers whose
    products and partial sums stay below 2^53 (the callers guarantee it), so the
    result is exact whatever the summation order, blocking or FMA use. (The tests
    swap in an integer product with another order and expect identical outputs.)"""
    return torch.matmul(a, b)


def _peak(t: torch.Tensor | None) -> float:
    return float(t.abs().max()) if t is not None and t.numel() else 0.0


def weight_frac(w: torch.Tensor) -> int:
    """Fractional bits for a weight tensor: as many as keep |w_int| < 2^WEIGHT_BITS."""
    peak = _peak(w.detach())
    if peak == 0.0:
        return MAX_WEIGHT_FRAC
    exponent = math.frexp(peak)[1]  # peak = m · 2^exponent, 0.5 <= m < 1: exact, unlike log2
    return min(MAX_WEIGHT_FRAC, WEIGHT_BITS - exponent)


class FixedLinear:
    """y = x W^T + b with x, y at scale 2^FRAC; W at 2^f, b at 2^(FRAC+f). The input
    must be saturated (``|x| <= ACT_MAX``): the exactness bound assumes it."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        self.frac = weight_frac(weight)
        # (in, out) integers, kept in float64: the product's operand type, converted once
        self.weight_t = to_fixed(weight, self.frac).t().contiguous().double()
        self.bias = None if bias is None else to_fixed(bias, FRAC + self.frac)
        in_features = weight.shape[1]
        check_exact(in_features * ACT_MAX * _peak(self.weight_t) + _peak(self.bias),
                    f"linear layer with {in_features} inputs")

    @classmethod
    def from_float(cls, m: nn.Linear) -> FixedLinear:
        return cls(m.weight, m.bias)

    def to(self, device) -> FixedLinear:
        self.weight_t = self.weight_t.to(device)
        self.bias = None if self.bias is None else self.bias.to(device)
        return self

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        acc = float64_matmul(x.double(), self.weight_t).long()  # exact
        if self.bias is not None:
            acc = acc + self.bias
        return saturate(round_shift(acc, self.frac))


def isqrt(v: torch.Tensor) -> torch.Tensor:
    """floor(sqrt(v)) for int64 v >= 0, exactly: a float64 estimate corrected by
    integer comparisons (the estimate is within 1 for v < 2^62)."""
    s = torch.sqrt(v.double()).floor().long()
    for _ in range(2):
        s = s - (s * s > v).long()
        s = s + ((s + 1) * (s + 1) <= v).long()
    return s


class FixedLayerNorm:
    """LayerNorm over the last dim: mean rounded to the activation grid, biased
    variance, exact integer sqrt, optional affine (gain at 2^15, bias at 2^FRAC)."""

    GAIN_FRAC = 15
    RECIP_BITS = 40

    def __init__(self, dim: int, eps: float, weight: torch.Tensor | None,
                 bias: torch.Tensor | None):
        self.dim = dim
        self.eps = max(1, round(eps * ONE * ONE))  # variance scale 2^(2·FRAC)
        self.gain_frac = self.GAIN_FRAC if weight is None else min(self.GAIN_FRAC,
                                                                   weight_frac(weight))
        self.weight = None if weight is None else to_fixed(weight, self.gain_frac)
        self.bias = None if bias is None else to_fixed(bias)
        if dim * float(2 * ACT_MAX) ** 2 >= 2.0**62:  # the int64 sum of squares
            raise ValueError(f"fixed-point LayerNorm over {dim} channels could overflow int64")

    @classmethod
    def from_float(cls, m: nn.LayerNorm) -> FixedLayerNorm:
        return cls(m.normalized_shape[-1], m.eps, m.weight, m.bias)

    def to(self, device) -> FixedLayerNorm:
        self.weight = None if self.weight is None else self.weight.to(device)
        self.bias = None if self.bias is None else self.bias.to(device)
        return self

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        mean = round_div(x.sum(dim=-1, keepdim=True), self.dim)
        d = x - mean  # |d| < 2^21
        var = torch.div((d * d).sum(dim=-1, keepdim=True), self.dim, rounding_mode="floor")
        std = isqrt(var + self.eps)  # scale 2^FRAC, >= 1
        # d · 2^FRAC / std as d · floor(2^40 / std) >> 28: |d| < 2^21 keeps the product
        # below 2^61; the reciprocal's relative error is below std / 2^40 <= 2^-19.
        y = round_shift(d * reciprocal(std, self.RECIP_BITS), self.RECIP_BITS - FRAC)
        if self.weight is not None:
            y = round_shift(y * self.weight, self.gain_frac)
        if self.bias is not None:
            y = y + self.bias
        return saturate(y)


class FixedTable:
    """An elementwise function f as a table over [lo, hi] on the activation grid;
    outside, f(x) = x above and 0 below (GELU and SiLU are within 2^-FRAC of that)."""

    def __init__(self, fn, lo: float, hi: float):
        self.lo, self.hi = round(lo * ONE), round(hi * ONE)
        grid = np.arange(self.lo, self.hi + 1, dtype=np.float64) / ONE
        self.table = torch.from_numpy(np.rint(fn(grid) * ONE).astype(np.int64))

    def to(self, device) -> FixedTable:
        self.table = self.table.to(device)
        return self

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        inside = self.table[(x.clamp(self.lo, self.hi) - self.lo)]
        return torch.where(x > self.hi, x, torch.where(x < self.lo, torch.zeros_like(x), inside))


@functools.cache
def _table(name: str, device: str) -> FixedTable:
    if name == "gelu":
        return FixedTable(lambda x: x * det_normal_cdf(x), -8.0, 8.0).to(device)
    return FixedTable(lambda x: x / (1.0 + det_exp(-x)), -24.0, 24.0).to(device)


def gelu_table(device: str | torch.device = "cpu") -> FixedTable:
    return _table("gelu", str(torch.device(device)))


def silu_table(device: str | torch.device = "cpu") -> FixedTable:
    return _table("silu", str(torch.device(device)))


@functools.cache
def _exp_table(device: str) -> torch.Tensor:
    z = np.arange(EXP_RANGE * ONE + 1, dtype=np.float64) / ONE
    table = np.rint(det_exp(-z) * (1 << EXP_BITS))
    table[-1] = 0.0
    return torch.from_numpy(table).to(device)


def exp_table(device: str | torch.device) -> torch.Tensor:
    """round(2^EXP_BITS · e^(-i / 2^FRAC)) for i in [0, EXP_RANGE · 2^FRAC] (integers in
    float64, ready for the exact matmul); the last entry, for anything further, is 0."""
    return _exp_table(str(torch.device(device)))


def attention_fixed(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                    block_elements: int = 1 << 20) -> torch.Tensor:
    """softmax(q kᵀ) v in integers. q (..., N, d) with the 1/sqrt(d) folded in, k, v
    (..., Nk, d), all int64 at 2^FRAC -> (..., N, d) int64 at 2^FRAC.

    With l_i = q·k_i at 2^(2·FRAC) (exact) and z_i = floor((max_j l_j − l_i) / 2^FRAC),
    each output is round(Σ e_i v_i / Σ e_i), e_i = exp_table[min(z_i, end)]: the
    normalisation is deferred to one integer division per output (flash-attention
    style). Logits and weights stay integers in float64, every partial sum below 2^53
    (Σ e v over at most KEY_BLOCK keys at a time, the blocks summed in int64). Work goes
    in blocks of about ``block_elements`` weights: several (batch, head) groups at once
    when they are small, else one group's queries in row blocks. Memory stays bounded,
    and the elementwise passes over each block stay near the cache."""
    nk, d = k.shape[-2:]
    lead = q.shape[:-2]
    q, k, v = q.reshape(-1, q.shape[-2], d), k.reshape(-1, nk, d), v.reshape(-1, nk, v.shape[-1])
    table = exp_table(q.device)
    last = float(table.numel() - 1)
    out = torch.empty(*q.shape[:-1], v.shape[-1], dtype=torch.int64, device=q.device)
    nq = q.shape[1]
    groups = max(1, block_elements // (nq * nk))  # (batch·head) groups per block
    rows = max(1, block_elements // nk) if groups == 1 else nq  # query rows per block
    for g in range(0, q.shape[0], groups):
        kt = k[g : g + groups].transpose(-1, -2).double()
        v1 = torch.cat([v[g : g + groups], torch.ones_like(v[g : g + groups, :, :1])], dim=-1)
        v1 = v1.double()  # (groups, Nk, d + 1): the last column makes the product give Σ e too
        for s in range(0, nq, rows):
            logits = float64_matmul(q[g : g + groups, s : s + rows].double(), kt)  # exact
            # z = (max − l) / 2^FRAC in one pass (a power-of-two scaling: exact), then clamp
            # and truncate (= floor, as z >= 0)
            top = logits.amax(dim=-1, keepdim=True).mul_(1.0 / ONE)
            z = torch.add(top, logits, alpha=-1.0 / ONE, out=logits)
            index = z.clamp_(max=last).to(torch.int32)
            # index_select on the flat index: the fastest gather on a CPU
            e = torch.index_select(table, 0, index.flatten()).view(index.shape)  # max -> 2^EXP_BITS
            acc = sum(float64_matmul(e[..., c : c + KEY_BLOCK], v1[:, c : c + KEY_BLOCK]).long()
                      for c in range(0, nk, KEY_BLOCK))  # each block exact, summed in int64
            out[g : g + groups, s : s + rows] = round_div(acc[..., :-1], acc[..., -1:])
    return out.reshape(*lead, *out.shape[-2:])


def rope_fixed(coords: torch.Tensor, dim: int, base: float = 10000.0
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer cos/sin tables (N, dim/2) at 2^ROPE_BITS for coords (N, A), with the
    channel split of :func:`vid1d.nn.rope.rope_nd`, from deterministic float64 math
    on the host."""
    if base != 10000.0:
        raise ValueError("rope_fixed has ln(base) only for base 10000")
    c = coords.detach().cpu().double().numpy()
    n_axes, pairs = c.shape[-1], dim // 2
    per_axis = [pairs // n_axes] * n_axes
    per_axis[0] += pairs - sum(per_axis)
    angles = []
    for a, p in enumerate(per_axis):
        if p:
            inv_freq = det_exp(-(np.arange(0, 2 * p, 2, dtype=np.float64) / (2 * p))
                               * _LN_10000)
            angles.append(c[..., a, None] * inv_freq)
    sin, cos = det_sincos(np.concatenate(angles, axis=-1))
    scale = float(1 << ROPE_BITS)
    return (torch.from_numpy(np.rint(cos * scale).astype(np.int64)),
            torch.from_numpy(np.rint(sin * scale).astype(np.int64)))


def apply_rope_fixed(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)
    return round_shift(out, ROPE_BITS)


class FixedKVCache:
    def __init__(self) -> None:
        self.k: torch.Tensor | None = None
        self.v: torch.Tensor | None = None

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.k = k if self.k is None else torch.cat([self.k, k], dim=2)
        self.v = v if self.v is None else torch.cat([self.v, v], dim=2)
        return self.k, self.v


class FixedAttention:
    def __init__(self, m: nn.Module):
        if not isinstance(m.q_norm, nn.Identity):
            raise ValueError("fixed-point attention does not support qk-norm")
        self.heads, self.head_dim = m.heads, m.head_dim
        self.qkv = FixedLinear.from_float(m.qkv)
        self.proj = FixedLinear.from_float(m.proj)
        self.scale_frac = 15
        # round(2^15 / sqrt(d)) in integers (a float pow could differ by an ulp elsewhere)
        self.scale = (math.isqrt((1 << 2 * (self.scale_frac + 1)) // self.head_dim) + 1) // 2
        check_exact(self.head_dim * float(ACT_MAX) ** 2, "attention logits")

    def to(self, device) -> FixedAttention:
        self.qkv.to(device)
        self.proj.to(device)
        return self

    def __call__(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None = None,
                 cache: FixedKVCache | None = None) -> torch.Tensor:
        """x (B, N, D) int; ``rope``: integer cos/sin (N, d/2); ``cache``: keys/values of
        earlier positions, appended to."""
        q, k, v = rearrange(self.qkv(x), "b n (three h d) -> three b h n d", three=3,
                            h=self.heads)  # each (B, h, N, d)
        if rope is not None:
            q, k = saturate(apply_rope_fixed(q, *rope)), saturate(apply_rope_fixed(k, *rope))
        if cache is not None:
            k, v = cache.append(k, v)
        out = attention_fixed(round_shift(q * self.scale, self.scale_frac), k, v)  # (B, h, N, d)
        return self.proj(rearrange(out, "b h n d -> b n (h d)"))  # (B, N, D)


def modulate_fixed(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return saturate(round_shift(x * (ONE + scale[:, None]), FRAC) + shift[:, None])


class FixedBlock:
    """Integer mirror of :class:`vid1d.nn.TransformerBlock` (GELU MLP; adaLN when
    conditioned)."""

    def __init__(self, m: nn.Module):
        if not isinstance(m.mlp.act, nn.GELU) or m.mlp.act.approximate != "none":
            raise ValueError("fixed-point blocks need the exact-GELU MLP")
        self.norm1 = FixedLayerNorm.from_float(m.norm1)
        self.norm2 = FixedLayerNorm.from_float(m.norm2)
        self.attn = FixedAttention(m.attn)
        self.fc1 = FixedLinear.from_float(m.mlp.fc1)
        self.fc2 = FixedLinear.from_float(m.mlp.fc2)
        self.ada = None if m.ada is None else FixedLinear.from_float(m.ada[-1])
        self.mod: tuple[torch.Tensor, ...] | None = None
        self.to(m.mlp.fc1.weight.device)

    def to(self, device) -> FixedBlock:
        for part in (self.norm1, self.norm2, self.attn, self.fc1, self.fc2, self.ada):
            if part is not None:
                part.to(device)
        self.gelu = gelu_table(device)
        return self

    def condition(self, cond: torch.Tensor) -> None:
        """Set the conditioning (adaLN blocks): cond (1 or B, cond_dim) int, constant over
        a stream, so its six (·, D) modulation vectors are computed once here."""
        self.mod = self.ada(silu_table(cond.device)(cond)).chunk(6, dim=-1)

    def __call__(self, x: torch.Tensor, **attn_kwargs) -> torch.Tensor:
        """x (B, N, D) int; adaLN blocks use the vectors of :meth:`condition`."""
        mlp = lambda h: self.fc2(self.gelu(self.fc1(h)))  # noqa: E731
        if self.ada is None:
            x = saturate(x + self.attn(self.norm1(x), **attn_kwargs))
            return saturate(x + mlp(self.norm2(x)))
        if self.mod is None:
            raise RuntimeError("FixedBlock.condition() must be called first")
        sh1, sc1, g1, sh2, sc2, g2 = self.mod
        h = self.attn(modulate_fixed(self.norm1(x), sh1, sc1), **attn_kwargs)
        x = saturate(x + round_shift(g1[:, None] * h, FRAC))
        h = mlp(modulate_fixed(self.norm2(x), sh2, sc2))
        return saturate(x + round_shift(g2[:, None] * h, FRAC))
