"""Integer coding tables for the AR prior's Gaussians, indexed by quantized (μ, σ).

Bit-exactness by construction (DESIGN.md "Contracts"): the network's float
outputs are turned into small integers *before* anything probabilistic is
computed on the coding path, and the tables are a fixed function of the config.

* σ: ``log σ`` is rounded to a grid of ``num_scales`` points over
  [LOG_SCALE_MIN, LOG_SCALE_MAX] → scale index.
* μ: rounded to a 1/``mean_steps`` grid, ``m = round(μ · mean_steps)``; the
  integer part ``base = floor(m / mean_steps)`` shifts the symbol
  (``s = ŷ − base``) and the fraction ``m mod mean_steps`` selects the table.
  The coded value ŷ itself is an integer (``round(y)``) and never depends on μ,
  so the decoder's reconstruction is exact whatever μ turns out to be.
* table index = scale index · mean_steps + fraction; each table is the pmf of
  N(fraction/mean_steps, σ²) * U(−½, ½) on an integer range wide enough for the
  tail mass, built with :mod:`vid1d.entropy.detmath` (exactly rounded ops only).

A float difference between two machines can only move a value across a rounding
boundary, which changes an index; the stored symbol CRC then turns it into an
error instead of wrong video.
"""

from __future__ import annotations

import numpy as np
import torch

from vid1d.entropy.cdf import CdfTable
from vid1d.entropy.detmath import det_exp, det_normal_cdf
from vid1d.models.gvc1d.ar_prior import LOG_SCALE_MAX, LOG_SCALE_MIN
from vid1d.nn.fixed import ONE, round_div

NUM_SCALES = 64
MEAN_STEPS = 4
TAIL_SIGMAS = 8.0  # half-width of each table in σ (beyond: the escape path)
PRECISION = 16


def build_tables(num_scales: int = NUM_SCALES, mean_steps: int = MEAN_STEPS,
                 precision: int = PRECISION) -> CdfTable:
    step = (LOG_SCALE_MAX - LOG_SCALE_MIN) / (num_scales - 1)
    scales = det_exp(LOG_SCALE_MIN + np.arange(num_scales, dtype=np.float64) * step)
    pmfs, offsets, tails = [], [], []
    for s in scales:
        half = int(np.ceil(TAIL_SIGMAS * s)) + 1
        values = np.arange(-half, half + 1, dtype=np.float64)
        for f in range(mean_steps):
            mu = f / mean_steps
            upper = det_normal_cdf((values + 0.5 - mu) / s)
            lower = det_normal_cdf((values - 0.5 - mu) / s)
            pmfs.append(upper - lower)
            offsets.append(-half)
            tails.append(float(det_normal_cdf((-half - 0.5 - mu) / s)
                               + det_normal_cdf((mu - half - 0.5) / s)))
    return CdfTable.from_pmfs(pmfs, offsets=offsets, precision=precision, tail_masses=tails)


def quantize_params(mu: torch.Tensor, log_sigma: torch.Tensor, *, num_scales: int = NUM_SCALES,
                    mean_steps: int = MEAN_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """(table indexes int32, integer base int32) from float μ, log σ of the same shape."""
    step = (LOG_SCALE_MAX - LOG_SCALE_MIN) / (num_scales - 1)
    scale_idx = torch.round((log_sigma.double() - LOG_SCALE_MIN) / step).clamp(0, num_scales - 1)
    m = torch.round(mu.double().clamp(-1e6, 1e6) * mean_steps).long()
    base = torch.div(m, mean_steps, rounding_mode="floor")
    frac = m - base * mean_steps
    index = scale_idx.long() * mean_steps + frac
    return index.to(torch.int32).cpu().numpy(), base.to(torch.int32).cpu().numpy()


def quantize_params_fixed(mu: torch.Tensor, log_sigma: torch.Tensor, *,
                          num_scales: int = NUM_SCALES, mean_steps: int = MEAN_STEPS
                          ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`quantize_params` for the integer coding path: μ and log σ are int64 at
    scale 2^FRAC, and every step is integer arithmetic (the same on any machine)."""
    lo, hi = round(LOG_SCALE_MIN * ONE), round(LOG_SCALE_MAX * ONE)  # exact: multiples of 2^-12
    ls = log_sigma.clamp(lo, hi) - lo
    scale_idx = round_div(ls * (num_scales - 1), hi - lo)  # in [0, num_scales - 1]
    m = round_div(mu * mean_steps, ONE)
    base = torch.div(m, mean_steps, rounding_mode="floor")
    index = scale_idx * mean_steps + (m - base * mean_steps)
    return index.to(torch.int32).cpu().numpy(), base.to(torch.int32).cpu().numpy()
