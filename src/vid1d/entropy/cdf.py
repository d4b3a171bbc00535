"""Integer CDF tables: the single source of truth for entropy coding.

A probability model is turned into integers once (``update()`` of the models in
this package); from then on encoder and decoder only ever look at these
integers, so they agree bit for bit on any machine. The conversion is
:func:`probs_to_frequencies`, a deterministic function of its float input:

1. negative / non-finite entries count as 0; rows summing to 0 become uniform;
2. every symbol gets frequency 1 (so any symbol stays codable), and the free
   mass ``2^precision - K`` is shared out as ``floor(p_i / sum(p) * free)``;
3. the few units left by the floors go, one each, to the symbols with the largest
   fractional parts (ties: lowest index) — the largest-remainder method.

Only exactly rounded IEEE operations and a sequential row sum are involved, so
identical floats give identical integers everywhere.

:func:`pmf_to_quantized_cdf` appends an *escape* symbol carrying the tail mass
(at least frequency 1). A value outside a table's range is coded as the escape
symbol followed by its distance from the range in bypass mode (see
:mod:`vid1d.entropy.coder`), as in CompressAI, so every int32 value can be coded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from vid1d.errors import InputError

#: constriction's Python coders work with 24-bit probabilities; tables may use fewer.
MAX_PRECISION = 24
DEFAULT_PRECISION = 16


def _check_precision(precision: int) -> int:
    if not (isinstance(precision, int | np.integer) and 1 <= precision <= MAX_PRECISION):
        raise InputError(
            f"CDF precision must be an integer in [1, {MAX_PRECISION}], got {precision}"
        )
    return int(precision)


def probs_to_frequencies(probs: np.ndarray, precision: int = DEFAULT_PRECISION) -> np.ndarray:
    """Quantize probabilities ``(..., K)`` to int64 frequencies ``>= 1`` summing to ``2^precision``.

    Rows need not be normalised. Deterministic: identical input floats give
    identical integers on every IEEE 754 machine (see module docstring).
    """
    precision = _check_precision(precision)
    p = np.array(probs, dtype=np.float64, copy=True)
    if p.ndim == 0 or p.shape[-1] < 2:
        raise InputError(f"need at least 2 symbols per distribution, got shape {p.shape}")
    num = p.shape[-1]
    total_weight = 1 << precision
    if num > total_weight:
        raise InputError(f"{num} symbols do not fit in {precision}-bit frequencies")
    p[~(np.isfinite(p) & (p > 0))] = 0.0
    total = np.add.accumulate(p, axis=-1)[..., -1:]  # sequential sum: reproducible
    empty = total[..., 0] <= 0.0
    if empty.any():
        p[empty] = 1.0
        total[empty] = float(num)
    free = float(total_weight - num)
    scaled = (p / total) * free
    base = np.floor(scaled)
    freq = base.astype(np.int64) + 1
    remainder = total_weight - freq.sum(axis=-1, keepdims=True)  # in [0, num]
    # Largest remainder: rank symbols by fractional part, descending, ties by index.
    order = np.argsort(-(scaled - base), axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(num, dtype=order.dtype), axis=-1)
    freq += rank < remainder
    if not (freq.sum(axis=-1) == total_weight).all():  # pragma: no cover - invariant
        raise AssertionError("probs_to_frequencies: frequencies do not sum to 2^precision")
    return freq


def pmf_to_quantized_cdf(
    pmf: np.ndarray, precision: int = DEFAULT_PRECISION, tail_mass: float | None = None
) -> np.ndarray:
    """Integer CDF (int32, length ``L + 2``) of ``pmf`` (length ``L``) plus an escape symbol.

    ``tail_mass`` is the probability of the escape symbol (values outside the
    ``L``-symbol range); by default ``max(0, 1 - sum(pmf))``. Every symbol,
    escape included, gets frequency >= 1; ``cdf[0] = 0``, ``cdf[-1] = 2^precision``.
    """
    pmf = np.asarray(pmf, dtype=np.float64)
    if pmf.ndim != 1 or pmf.size < 1:
        raise InputError(f"pmf must be a non-empty 1-D array, got shape {pmf.shape}")
    if tail_mass is None:
        tail_mass = max(0.0, 1.0 - math.fsum(pmf.tolist()))
    freq = probs_to_frequencies(np.append(pmf, tail_mass), precision)
    cdf = np.zeros(freq.size + 1, dtype=np.int64)
    np.cumsum(freq, out=cdf[1:])
    return cdf.astype(np.int32)


@dataclass(frozen=True, eq=False)
class CdfTable:
    """A bank of integer CDFs, one per distribution index.

    - ``cdfs``: int32 ``(num_dists, max_symbols + 1)``; row ``i`` holds
      ``lengths[i] + 1`` increasing values from 0 to ``2^precision``, padded with
      ``2^precision``.
    - ``lengths``: int32 ``(num_dists,)``, the number of symbols of each
      distribution *including* its final escape symbol (so ``>= 2``).
    - ``offsets``: int32 ``(num_dists,)``, the integer value coded by symbol 0.
      Distribution ``i`` covers values ``offsets[i] .. offsets[i] + lengths[i] - 2``
      directly; anything else goes through the escape symbol ``lengths[i] - 1``.
    - ``precision``: bits of the frequencies (probability of symbol ``s`` is
      ``(cdf[s+1] - cdf[s]) / 2^precision``).
    """

    cdfs: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    precision: int = DEFAULT_PRECISION
    # constriction model objects built from the rows, filled lazily by the coder.
    _models: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        precision = _check_precision(self.precision)
        cdfs = np.ascontiguousarray(self.cdfs, dtype=np.int64)
        lengths = np.ascontiguousarray(self.lengths, dtype=np.int64).reshape(-1)
        offsets = np.ascontiguousarray(self.offsets, dtype=np.int64).reshape(-1)
        if cdfs.ndim != 2 or cdfs.shape[0] != lengths.size or offsets.size != lengths.size:
            raise InputError(
                f"CDF table shapes disagree: cdfs {cdfs.shape}, lengths {lengths.shape}, "
                f"offsets {offsets.shape}"
            )
        if cdfs.shape[0] == 0:
            raise InputError("CDF table has no distributions")
        if (lengths < 2).any() or (lengths > cdfs.shape[1] - 1).any():
            raise InputError("CDF table lengths must be in [2, cdfs.shape[1] - 1]")
        total = 1 << precision
        col = np.arange(cdfs.shape[1])
        inside = col[None, :] <= lengths[:, None]
        steps = np.diff(cdfs, axis=1)
        steps_inside = col[None, 1:] <= lengths[:, None]
        if (
            (cdfs[:, 0] != 0).any()
            or (np.take_along_axis(cdfs, lengths[:, None], axis=1) != total).any()
            or (steps[steps_inside] < 1).any()
            or (cdfs[~inside] != total).any()
        ):
            raise InputError(
                f"invalid CDF table: rows must rise strictly from 0 to 2^{precision} "
                "and be padded with 2^precision"
            )
        if (offsets < np.iinfo(np.int32).min).any() or (
            offsets + lengths - 2 > np.iinfo(np.int32).max
        ).any():
            raise InputError("CDF table offsets out of int32 range")
        object.__setattr__(self, "cdfs", cdfs.astype(np.int32))
        object.__setattr__(self, "lengths", lengths.astype(np.int32))
        object.__setattr__(self, "offsets", offsets.astype(np.int32))
        object.__setattr__(self, "precision", precision)

    @classmethod
    def from_pmfs(
        cls,
        pmfs: list[np.ndarray] | np.ndarray,
        offsets: np.ndarray | list[int],
        precision: int = DEFAULT_PRECISION,
        tail_masses: np.ndarray | list[float] | None = None,
    ) -> CdfTable:
        """Build a table from one pmf per distribution (ragged lists allowed)."""
        rows = [
            pmf_to_quantized_cdf(
                np.asarray(pmf), precision, None if tail_masses is None else float(tail_masses[i])
            )
            for i, pmf in enumerate(pmfs)
        ]
        width = max(r.size for r in rows)
        cdfs = np.full((len(rows), width), 1 << precision, dtype=np.int32)
        for i, r in enumerate(rows):
            cdfs[i, : r.size] = r
        lengths = np.array([r.size - 1 for r in rows], dtype=np.int32)
        return cls(cdfs, lengths, np.asarray(offsets, dtype=np.int32), precision)

    @property
    def num_dists(self) -> int:
        return int(self.cdfs.shape[0])

    def frequencies(self, index: int) -> np.ndarray:
        """Integer frequencies (int64) of distribution ``index``, escape symbol last."""
        n = int(self.lengths[index])
        return np.diff(self.cdfs[index, : n + 1].astype(np.int64))
