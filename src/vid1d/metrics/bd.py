"""Bjøntegaard-delta rate and quality between two rate-distortion curves.

- **BD-rate** (percent): the average bitrate difference of the test codec relative
  to the anchor at equal quality. The log10-rate is interpolated as a function of
  quality for each curve, both are integrated over the quality interval the two
  curves share, and the mean log difference ``d`` becomes ``(10^d - 1) * 100``.
  Negative = the test codec needs fewer bits.
- **BD-quality** (dB for PSNR, metric units otherwise): the average quality
  difference at equal rate, with the roles of the axes swapped (quality as a
  function of log10-rate). Positive = the test codec is better.

Two interpolation methods:

- ``"pchip"`` (default) -- piecewise cubic Hermite interpolation with the
  Fritsch-Carlson monotone slopes, integrated exactly per piece: the piecewise
  cubic BD of Bjøntegaard's VCEG-AI11 as used by the JCT-VC/JVET common test
  conditions spreadsheets, and the ``bjontegaard`` package's ``method="pchip"``.
  It follows each curve through its points without the overshoot of a global
  polynomial.
- ``"cubic"`` -- the original VCEG-M33 method (Bjøntegaard 2001): a least-squares
  cubic polynomial through the (4) points of each curve, integrated analytically.

Input rules (violations raise :class:`~vid1d.errors.InputError`; nothing is
silently dropped or reordered in a way that changes the curve):

- each curve needs at least 4 points, all finite, rates > 0;
- points may come in any order -- they are sorted by rate;
- no two points of a curve may share a rate;
- for BD-rate each curve must be strictly monotonic: quality strictly increasing
  with rate. A non-monotonic curve (two encodes where more bits gave equal or lower
  quality, e.g. a saturated metric or an undertrained model) has no single rate for
  a quality, so BD-rate is undefined and we say so rather than return a number that
  depends on point order. BD-quality integrates quality as a function of log-rate,
  which stays single-valued when quality dips, so it needs distinct rates only;
- the curves must overlap on the integration axis (quality for BD-rate, log-rate
  for BD-quality). Two codecs whose qualities never meet (no BD-rate) can still
  share a rate range, and BD-quality then says how far apart they are there.

Quality must be "higher is better"; for a distortion such as LPIPS or DISTS pass
its negative (BD-quality then comes out as the negated distortion difference).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from vid1d.errors import InputError

Method = Literal["pchip", "cubic"]
MIN_POINTS = 4


# ---------------------------------------------------------------- interpolants


def _pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Derivatives at the knots (Fritsch & Carlson 1980; the MATLAB/SciPy ``pchip`` rule)."""
    h = np.diff(x)
    m = np.diff(y) / h
    n = len(x)
    d = np.zeros(n)
    if n == 2:
        return np.full(n, m[0])
    # interior: weighted harmonic mean of the neighbouring secants, 0 at extrema
    for k in range(1, n - 1):
        if m[k - 1] * m[k] > 0:
            w1 = 2 * h[k] + h[k - 1]
            w2 = h[k] + 2 * h[k - 1]
            d[k] = (w1 + w2) / (w1 / m[k - 1] + w2 / m[k])
    # ends: one-sided three-point estimate, kept shape-preserving
    d[0] = _pchip_end(h[0], h[1], m[0], m[1])
    d[-1] = _pchip_end(h[-1], h[-2], m[-1], m[-2])
    return d


def _pchip_end(h0: float, h1: float, m0: float, m1: float) -> float:
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(d) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(d) > abs(3 * m0):
        return 3 * m0
    return d


def _pchip_integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    """Exact integral over ``[lo, hi]`` (inside ``[x0, xn]``) of the PCHIP interpolant."""
    d = _pchip_slopes(x, y)
    total = 0.0
    for k in range(len(x) - 1):
        a, b = max(lo, x[k]), min(hi, x[k + 1])
        if b <= a:
            continue
        h = x[k + 1] - x[k]
        m = (y[k + 1] - y[k]) / h
        # p(t) = y_k + d_k t + c2 t^2 + c3 t^3 with t = x - x_k (cubic Hermite form)
        c2 = (3 * m - 2 * d[k] - d[k + 1]) / h
        c3 = (d[k] + d[k + 1] - 2 * m) / h**2

        def prim(t: float, k: int = k, c2: float = c2, c3: float = c3) -> float:
            return y[k] * t + d[k] * t**2 / 2 + c2 * t**3 / 3 + c3 * t**4 / 4

        total += prim(b - x[k]) - prim(a - x[k])
    return total


def _cubic_integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    """Integral over ``[lo, hi]`` of the least-squares cubic through the points (VCEG-M33)."""
    prim = np.polyint(np.polyfit(x, y, 3))
    return float(np.polyval(prim, hi) - np.polyval(prim, lo))


# ----------------------------------------------------------------- the deltas


def _curve(
    rate: Sequence[float], dist: Sequence[float], name: str, monotone: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validate one RD curve; return (log10 rate, quality) sorted by rate.

    ``monotone``: also require quality to rise strictly with rate (BD-rate needs it,
    BD-quality does not)."""
    r = np.asarray(rate, dtype=np.float64).reshape(-1)
    q = np.asarray(dist, dtype=np.float64).reshape(-1)
    if r.shape != q.shape:
        raise InputError(f"{name} curve: {r.size} rates but {q.size} quality values")
    if r.size < MIN_POINTS:
        raise InputError(f"{name} curve: BD needs at least {MIN_POINTS} RD points, got {r.size}")
    if not (np.isfinite(r).all() and np.isfinite(q).all()):
        raise InputError(f"{name} curve: rates and quality values must be finite")
    if (r <= 0).any():
        raise InputError(f"{name} curve: rates must be positive, got {r.tolist()}")
    order = np.argsort(r, kind="stable")
    r, q = r[order], q[order]
    if (np.diff(r) <= 0).any():
        raise InputError(f"{name} curve has two points at the same rate: rates {r.tolist()}")
    if monotone and (np.diff(q) <= 0).any():
        raise InputError(
            f"{name} curve is not strictly monotonic (quality must rise with rate): "
            f"rates {r.tolist()}, quality {q.tolist()}"
        )
    return np.log10(r), q


def _delta(
    x_anchor: np.ndarray,
    y_anchor: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    method: str,
    axis: str,
) -> float:
    """Mean of ``f_test - f_anchor`` over the overlap of the two x ranges."""
    lo = max(x_anchor[0], x_test[0])
    hi = min(x_anchor[-1], x_test[-1])
    if hi <= lo:
        raise InputError(
            f"the RD curves do not overlap in {axis} "
            f"(anchor {x_anchor[0]:.4g}..{x_anchor[-1]:.4g}, test {x_test[0]:.4g}..{x_test[-1]:.4g})"
        )
    if method == "pchip":
        integral = _pchip_integral
    elif method == "cubic":
        integral = _cubic_integral
    else:
        raise InputError(f"unknown BD method {method!r} (use 'pchip' or 'cubic')")
    diff = integral(x_test, y_test, lo, hi) - integral(x_anchor, y_anchor, lo, hi)
    return float(diff / (hi - lo))


def bd_rate(
    rate_anchor: Sequence[float],
    dist_anchor: Sequence[float],
    rate_test: Sequence[float],
    dist_test: Sequence[float],
    method: Method = "pchip",
) -> float:
    """BD-rate in percent of the test curve against the anchor (negative = test saves bits).

    ``rate_*`` in any positive unit (bps, bpp, bytes -- the same for both curves),
    ``dist_*`` a quality where higher is better (PSNR dB, MS-SSIM, VMAF ...).
    """
    lr_a, q_a = _curve(rate_anchor, dist_anchor, "anchor")
    lr_t, q_t = _curve(rate_test, dist_test, "test")
    d = _delta(q_a, lr_a, q_t, lr_t, method, "quality")
    return (10**d - 1) * 100


def bd_quality(
    rate_anchor: Sequence[float],
    dist_anchor: Sequence[float],
    rate_test: Sequence[float],
    dist_test: Sequence[float],
    method: Method = "pchip",
) -> float:
    """BD-quality (BD-PSNR for PSNR): mean quality gain of test over anchor at equal rate.

    In the units of ``dist_*`` (dB for PSNR); positive = the test codec is better.
    Defined for curves whose quality does not rise strictly with rate (rates must be
    distinct); the mean is over the log-rate range both curves cover.
    """
    lr_a, q_a = _curve(rate_anchor, dist_anchor, "anchor", monotone=False)
    lr_t, q_t = _curve(rate_test, dist_test, "test", monotone=False)
    return _delta(lr_a, q_a, lr_t, q_t, method, "log-rate")


bd_psnr = bd_quality
"""Alias: BD-PSNR is BD-quality on PSNR values."""
