"""Deterministic float64 math for building probability tables.

Integer CDF tables must come out identical on every machine that builds them.
IEEE 754 makes ``+ - * /``, ``sqrt``, ``floor``, ``rint`` and ``ldexp``
correctly rounded, hence reproducible; ``exp``/``erf`` from libm, numpy's SIMD
loops or torch's vectorised kernels are not (they differ by an ulp between
CPUs and library versions, and an ulp is enough to move a frequency across a
rounding boundary). So the functions here use only those exact operations, one
numpy ufunc call per operation (numpy never fuses them into FMAs), in a fixed
order. Accuracy is a few ulps, far below the 2^-16 granularity of a CDF table.
"""

from __future__ import annotations

import numpy as np

# ln 2 split so that k * _LN2_HI is exact for |k| < 2^11 (fdlibm's constants).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
# exp(r) for |r| <= ln2/2 by its Taylor series; the 14th term is below 2^-57.
_EXP_TERMS = 14
_TWO_OVER_SQRT_PI = 1.1283791670955126  # 2 / sqrt(pi)
_INV_SQRT2 = 0.7071067811865476  # 1 / sqrt(2)
# Phi(-9) ~ 1e-19: beyond |z| = 9 the CDF is 0 or 1 to float64 absolute precision,
# which keeps the erf series below short (its terms peak near exp(x^2), x = z / sqrt 2).
_Z_MAX = 9.0
_ERF_TERMS = 150


def det_exp(x: np.ndarray | float) -> np.ndarray:
    """``exp(x)`` in float64 from exactly rounded operations only."""
    x = np.asarray(x, dtype=np.float64)
    xc = np.clip(x, -745.0, 709.0)
    k = np.rint(xc * _INV_LN2)
    r = (xc - k * _LN2_HI) - k * _LN2_LO
    p = np.ones_like(r)
    for n in range(_EXP_TERMS, 0, -1):  # Horner: 1 + r/1 (1 + r/2 (1 + r/3 (...)))
        p = 1.0 + (r / float(n)) * p
    out = np.ldexp(p, k.astype(np.int64))
    # outside [-745, 709.78] exp under/overflows float64 anyway
    return np.where(x < -745.2, 0.0, np.where(x > 709.78, np.inf, out))


# pi/2 split so that k * _PIO2_HI is exact for |k| < 2^20 (fdlibm's pio2_1, pio2_1t).
_PIO2_HI = 1.57079632673412561417e00
_PIO2_LO = 6.07710050650619224932e-11
_TWO_OVER_PI = 6.36619772367581382433e-01
_TRIG_TERMS = 12  # Taylor terms on |r| <= pi/4: the 12th is below 2^-60


def det_sincos(x: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """``(sin x, cos x)`` in float64 from exactly rounded operations only, for
    ``|x| < 2^19`` (RoPE angles): x = k·pi/2 + r, Taylor series on r, quadrant from k."""
    x = np.asarray(x, dtype=np.float64)
    if np.abs(x).max(initial=0.0) >= 2.0**19:
        raise ValueError("det_sincos needs |x| < 2^19")
    k = np.rint(x * _TWO_OVER_PI)
    r = (x - k * _PIO2_HI) - k * _PIO2_LO
    r2 = r * r
    s = np.ones_like(r)
    c = np.ones_like(r)
    for n in range(_TRIG_TERMS, 0, -1):  # Horner on the series of sin(r)/r and cos(r)
        s = 1.0 - (r2 / float((2 * n) * (2 * n + 1))) * s
        c = 1.0 - (r2 / float((2 * n - 1) * (2 * n))) * c
    s = r * s
    q = np.mod(k.astype(np.int64), 4)
    sin = np.select([q == 0, q == 1, q == 2], [s, c, -s], -c)
    cos = np.select([q == 0, q == 1, q == 2], [c, -s, -c], s)
    return sin, cos


def det_erf(x: np.ndarray | float) -> np.ndarray:
    """``erf(x)`` in float64 (absolute error ~1e-16) from exactly rounded operations.

    Uses ``erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1))``,
    whose terms are all of one sign (no cancellation), for ``|x| <= 9 / sqrt(2)``.
    """
    x = np.asarray(x, dtype=np.float64)
    xc = np.clip(x, -_Z_MAX * _INV_SQRT2, _Z_MAX * _INV_SQRT2)
    x2 = xc * xc
    term = xc.copy()
    total = xc.copy()
    for n in range(1, _ERF_TERMS):
        term = term * (2.0 * x2) / float(2 * n + 1)
        total = total + term
    out = _TWO_OVER_SQRT_PI * det_exp(-x2) * total
    return np.where(np.abs(x) >= _Z_MAX * _INV_SQRT2, np.sign(x), np.clip(out, -1.0, 1.0))


def det_normal_cdf(z: np.ndarray | float) -> np.ndarray:
    """Standard normal CDF ``Phi(z)`` in float64, reproducible across machines."""
    z = np.asarray(z, dtype=np.float64)
    return 0.5 + 0.5 * det_erf(z * _INV_SQRT2)


def det_normal_quantile(p: float) -> float:
    """``Phi^-1(p)`` for ``0 < p < 1`` by bisection on :func:`det_normal_cdf` (reproducible)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"quantile needs 0 < p < 1, got {p}")
    lo, hi = -_Z_MAX, _Z_MAX
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if float(det_normal_cdf(mid)) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def det_softmax_weights(logits: np.ndarray) -> np.ndarray:
    """Unnormalised softmax ``exp(l - max l)`` over the last axis, reproducibly.

    The normalisation is left to :func:`vid1d.entropy.cdf.probs_to_frequencies`,
    which divides by a sequentially accumulated (hence reproducible) row sum.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if not np.isfinite(logits).all():
        raise ValueError("logits must be finite")
    return det_exp(logits - logits.max(axis=-1, keepdims=True))
