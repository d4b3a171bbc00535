"""Entropy coding of integer symbols with integer frequency tables (constriction).

Two families of calls, both vectorised (no Python loop per symbol):

- :func:`encode` / :func:`decode` / :func:`estimate_bits`: symbols coded with a
  :class:`~vid1d.entropy.cdf.CdfTable` row chosen per symbol by ``indexes``
  (factorized and Gaussian-conditional models). Any int32 value can be coded:
  values outside a row's range use its escape symbol plus bypass bits.
- :func:`encode_with_frequencies` & co.: finite-alphabet symbols, each with its own
  row of integer frequencies (categorical models over token ids).

The coder is `constriction <https://bamler-lab.github.io/constriction/>`_:
rANS (``"ans"``, a stack, the default) or range coding (``"range"``, a queue).

Exactness. constriction's Python models take float probabilities and quantise
them to 24-bit fixed point. Its ``Categorical(perfect=False)`` quantiser
(``fast_quantized_cdf``/``LazyContiguousCategoricalEntropyModel`` in the Rust
source) gives symbol ``i`` the left cumulative ``floor(W_i * scale) + i`` with
``W_i`` the running sum of the weights and ``scale = (2^24 - K) / sum(w)``. We pass
the weights ``w_i = f_i * 2^(24 - precision) - 1``: they are integers below 2^24
(exact in float32 and float64, and so are all their partial sums), they sum to
``2^24 - K``, hence ``scale == 1`` exactly and the left cumulative is exactly
``2^(24 - precision) * cdf[i]``. constriction therefore codes with *our*
integer probabilities, bit for bit, with no float rounding anywhere; the
ideal cost is ``-log2(f_i / 2^precision)`` per symbol, which is what
:func:`estimate_bits` returns (tests check both claims, the first against a
reference rANS written from the algorithm).

Stream layout (decode order; the ANS coder pushes it in reverse):

1. the in-range symbols, grouped by distribution index in increasing order
   (within a group, in raster order) — one vectorised call per distinct index;
2. for each escape, in raster order: the number ``n`` of 4-bit chunks of its
   overflow value (uniform over 16);
3. all those chunks, least significant first (uniform over 16).

The overflow value maps a value ``v`` (relative to the row's offset) below the
range to ``-2v - 1`` and one at or above the escape index ``E`` to ``2(v - E)``;
an escape costs ``-log2 p(escape) + 4 + 4n`` bits. The bytes are the coder's
32-bit words, little endian. There is no header: the caller knows how many
symbols to decode (from ``indexes``), and an ANS stream must be consumed
exactly, which catches most corruption (range coding cannot tell); the container
stores a CRC of the decoded symbols for the rest.
"""

from __future__ import annotations

from typing import Literal

import constriction
import numpy as np

from vid1d.entropy.cdf import MAX_PRECISION, CdfTable
from vid1d.errors import BitstreamError, InputError

CoderName = Literal["ans", "range"]
CODERS: tuple[str, ...] = ("ans", "range")

_ESCAPE_CHUNK_BITS = 4
_ESCAPE_MAX_CHUNKS = 15  # n is coded uniformly over 0..15
_SHIFTS = np.arange(_ESCAPE_MAX_CHUNKS, dtype=np.int64) * _ESCAPE_CHUNK_BITS
_INT32 = np.iinfo(np.int32)
_UNIFORM16 = constriction.stream.model.Uniform(1 << _ESCAPE_CHUNK_BITS)
_FAMILY = constriction.stream.model.Categorical(perfect=False)


def check_coder(coder: str) -> str:
    """Return ``coder`` if it names a coder of :data:`CODERS`, else raise InputError."""
    if coder not in CODERS:
        raise InputError(f"unknown entropy coder {coder!r}; expected one of {', '.join(CODERS)}")
    return coder


def constriction_weights(freqs: np.ndarray, precision: int) -> np.ndarray:
    """Float32 weights under which constriction's categorical uses exactly ``freqs``.

    See the module docstring: ``w = f * 2^(24 - precision) - 1``. Computed in
    float32 directly: ``f < 2^precision <= 2^24`` and a power-of-two scaling and
    the ``- 1`` are exact there.
    """
    weights = np.array(freqs, dtype=np.float32, order="C", copy=True)
    weights *= np.float32(1 << (MAX_PRECISION - precision))
    weights -= np.float32(1.0)
    return weights


def _table_model(table: CdfTable, index: int):
    model = table._models.get(index)
    if model is None:
        weights = constriction_weights(table.frequencies(index), table.precision)
        model = constriction.stream.model.Categorical(weights, perfect=False)
        table._models[index] = model
    return model


# --------------------------------------------------------------------------- streams


def _contiguous(segments: list[tuple]) -> list[tuple]:
    # constriction 0.5 reads a 2-D parameter array's raw buffer as if it were
    # C-contiguous, whatever its strides: an F-ordered array (which numpy's
    # astype can produce from a broadcast view) silently codes different
    # probabilities. Every array handed to it is made C-contiguous first.
    return [
        (np.ascontiguousarray(s), m, None if p is None else np.ascontiguousarray(p))
        for s, m, p in segments
    ]


def _write(segments: list[tuple], coder: str) -> bytes:
    """Code ``segments`` = [(symbols int32, model, params or None)] in decode order."""
    segments = _contiguous(segments)
    if coder == "ans":
        enc = constriction.stream.stack.AnsCoder()
        for symbols, model, params in reversed(segments):  # a stack: last pushed, first read
            if symbols.size:
                if params is None:
                    enc.encode_reverse(symbols, model)
                else:
                    enc.encode_reverse(symbols, model, params)
    else:
        enc = constriction.stream.queue.RangeEncoder()
        for symbols, model, params in segments:
            if symbols.size:
                if params is None:
                    enc.encode(symbols, model)
                else:
                    enc.encode(symbols, model, params)
    return np.asarray(enc.get_compressed(), dtype="<u4").tobytes()


def _fatal(exc: BaseException) -> bool:
    return isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError)


class _Reader:
    """Sequential decoder over the bytes of :func:`_write`; every failure -> BitstreamError."""

    def __init__(self, data: bytes | bytearray | memoryview, coder: str) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InputError(f"compressed data must be bytes, got {type(data).__name__}")
        if len(data) % 4:
            raise BitstreamError(
                f"entropy-coded payload of {len(data)} bytes is not a whole number of 32-bit words"
            )
        self.coder = coder
        words = np.frombuffer(bytes(data), dtype="<u4").astype(np.uint32)
        try:
            if coder == "ans":
                self._dec = constriction.stream.stack.AnsCoder(words)
            else:
                self._dec = constriction.stream.queue.RangeDecoder(words)
        except BaseException as exc:
            if _fatal(exc):
                raise
            raise BitstreamError(f"corrupt entropy-coded payload ({exc})") from exc

    def read(self, model, count: int | None = None, params: np.ndarray | None = None) -> np.ndarray:
        try:
            if params is not None:
                if not len(params):
                    return np.zeros(0, dtype=np.int64)
                out = self._dec.decode(model, np.ascontiguousarray(params))
            elif count:
                out = self._dec.decode(model, int(count))
            else:
                return np.zeros(0, dtype=np.int64)
        except BaseException as exc:
            if _fatal(exc):
                raise
            raise BitstreamError(f"corrupt entropy-coded payload ({exc})") from exc
        return np.asarray(out, dtype=np.int64)

    def finish(self) -> None:
        # rANS is exactly invertible: a valid stream leaves the coder empty.
        if self.coder == "ans" and not self._dec.is_empty():
            raise BitstreamError("corrupt entropy-coded payload (data left after the last symbol)")


# --------------------------------------------------------------------------- tables


def _prepare(
    symbols: np.ndarray | None, indexes: np.ndarray, table: CdfTable
) -> tuple[np.ndarray | None, np.ndarray]:
    idx = np.asarray(indexes)
    if idx.dtype.kind not in "iu":
        raise InputError(f"indexes must be integers, got dtype {idx.dtype}")
    idx = idx.reshape(-1).astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= table.num_dists):
        raise InputError(f"distribution indexes must lie in [0, {table.num_dists})")
    if symbols is None:
        return None, idx
    sym = np.asarray(symbols)
    if sym.dtype.kind not in "iu":
        raise InputError(f"symbols must be integers, got dtype {sym.dtype}")
    if sym.shape != np.shape(indexes):
        raise InputError(f"symbols shape {sym.shape} != indexes shape {np.shape(indexes)}")
    sym = sym.reshape(-1).astype(np.int64)
    if sym.size and (sym.min() < _INT32.min or sym.max() > _INT32.max):
        raise InputError("symbols must fit in int32")
    return sym, idx


def _split_escapes(
    sym: np.ndarray, idx: np.ndarray, table: CdfTable
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(table symbol per value, escape mask, overflow value per escape)."""
    v = sym - table.offsets[idx]  # int64 - int32 -> int64
    esc_symbol = table.lengths[idx].astype(np.int64) - 1
    escape = (v < 0) | (v >= esc_symbol)
    if not escape.any():
        return v, escape, np.zeros(0, dtype=np.int64)
    ve, ee = v[escape], esc_symbol[escape]
    overflow = np.where(ve < 0, -2 * ve - 1, 2 * (ve - ee))
    return np.where(escape, esc_symbol, v), escape, overflow


def _chunk_counts(overflow: np.ndarray) -> np.ndarray:
    return ((overflow[:, None] >> _SHIFTS[None, :]) > 0).sum(axis=1)


def _groups(idx: np.ndarray, num_dists: int) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Stable order of positions by distribution index, and [(index, start, stop)]."""
    key = idx.astype(np.uint16) if num_dists <= 1 << 16 else idx  # radix sort when small
    order = np.argsort(key, kind="stable")
    counts = np.bincount(idx, minlength=num_dists)
    stops = np.cumsum(counts)
    return order, [
        (int(g), int(stops[g] - counts[g]), int(stops[g])) for g in np.flatnonzero(counts)
    ]


def table_segments(sym: np.ndarray, idx: np.ndarray, table: CdfTable) -> list[tuple]:
    """The stream segments of one batch of (validated, flat) symbols, in decode order."""
    values, _, overflow = _split_escapes(sym, idx, table)
    order, groups = _groups(idx, table.num_dists)
    segments: list[tuple] = [
        (values[order[lo:hi]].astype(np.int32), _table_model(table, g), None)
        for g, lo, hi in groups
    ]
    n_chunks = _chunk_counts(overflow)
    chunks = (overflow[:, None] >> _SHIFTS[None, :]) & ((1 << _ESCAPE_CHUNK_BITS) - 1)
    payload = chunks[np.arange(_ESCAPE_MAX_CHUNKS)[None, :] < n_chunks[:, None]]
    segments.append((n_chunks.astype(np.int32), _UNIFORM16, None))
    segments.append((payload.astype(np.int32), _UNIFORM16, None))
    return segments


def read_table_symbols(reader: _Reader, idx: np.ndarray, table: CdfTable) -> np.ndarray:
    """Read back one batch written by :func:`table_segments`: flat int32 symbols."""
    values = np.empty(idx.size, dtype=np.int64)
    order, groups = _groups(idx, table.num_dists)
    for g, lo, hi in groups:
        values[order[lo:hi]] = reader.read(_table_model(table, g), hi - lo)
    esc_symbol = table.lengths[idx].astype(np.int64) - 1
    escape = values == esc_symbol
    n_chunks = reader.read(_UNIFORM16, int(escape.sum()))
    payload = reader.read(_UNIFORM16, int(n_chunks.sum()))
    grid = np.zeros((n_chunks.size, _ESCAPE_MAX_CHUNKS), dtype=np.int64)
    grid[np.arange(_ESCAPE_MAX_CHUNKS)[None, :] < n_chunks[:, None]] = payload
    overflow = (grid << _SHIFTS[None, :]).sum(axis=1)  # < 2^60: no int64 overflow
    values[escape] = np.where(
        overflow % 2 == 1, -(overflow + 1) // 2, esc_symbol[escape] + overflow // 2
    )
    out = values + table.offsets[idx].astype(np.int64)
    if out.size and (out.min() < _INT32.min or out.max() > _INT32.max):
        raise BitstreamError("corrupt entropy-coded payload (decoded value outside int32)")
    return out.astype(np.int32)


def encode(
    symbols: np.ndarray, indexes: np.ndarray, table: CdfTable, *, coder: CoderName = "ans"
) -> bytes:
    """Entropy-code int32 ``symbols``, symbol ``k`` with table row ``indexes[k]``."""
    coder = check_coder(coder)
    sym, idx = _prepare(symbols, indexes, table)
    return _write(table_segments(sym, idx, table), coder)


def decode(
    data: bytes, indexes: np.ndarray, table: CdfTable, *, coder: CoderName = "ans"
) -> np.ndarray:
    """Inverse of :func:`encode`: int32 symbols shaped like ``indexes``.

    Raises :class:`~vid1d.errors.BitstreamError` on data that cannot be decoded.
    """
    coder = check_coder(coder)
    _, idx = _prepare(None, indexes, table)
    reader = _Reader(data, coder)
    out = read_table_symbols(reader, idx, table)
    reader.finish()
    return out.reshape(np.shape(indexes))


def estimate_bits(symbols: np.ndarray, indexes: np.ndarray, table: CdfTable) -> float:
    """Ideal code length in bits of :func:`encode` under the integer table.

    ``sum -log2(f / 2^precision)`` over the coded table symbols plus the bypass
    bits of escapes; the real output adds at most the coder's final state (a few
    32-bit words).
    """
    sym, idx = _prepare(symbols, indexes, table)
    values, _, overflow = _split_escapes(sym, idx, table)
    freq = table.cdfs[idx, values + 1].astype(np.int64) - table.cdfs[idx, values]
    bypass = (_ESCAPE_CHUNK_BITS * (1 + _chunk_counts(overflow))).sum()
    return float(idx.size * table.precision - np.log2(freq).sum() + bypass)


# --------------------------------------------------------------------------- per-symbol rows


def _prepare_freqs(
    symbols: np.ndarray | None, freqs: np.ndarray, precision: int, count: int | None
) -> tuple[np.ndarray | None, np.ndarray]:
    f = np.asarray(freqs)
    if f.dtype.kind not in "iu" or f.ndim not in (1, 2) or f.shape[-1] < 2:
        raise InputError(
            f"frequencies must be an integer array (K,) or (N, K), K >= 2; got {f.dtype} {f.shape}"
        )
    if not 1 <= precision <= MAX_PRECISION:
        raise InputError(f"precision must be in [1, {MAX_PRECISION}], got {precision}")
    if (f.size and f.min() < 1) or (f.sum(axis=-1, dtype=np.int64) != 1 << precision).any():
        raise InputError(f"frequency rows must be >= 1 and sum to 2^{precision}")
    n = count if symbols is None else int(np.size(symbols))
    if f.ndim == 2 and f.shape[0] != n:
        raise InputError(f"{f.shape[0]} frequency rows for {n} symbols")
    if symbols is None:
        return None, f
    sym = np.asarray(symbols)
    if sym.dtype.kind not in "iu":
        raise InputError(f"symbols must be integers, got dtype {sym.dtype}")
    sym = sym.reshape(-1).astype(np.int64)
    if sym.size and (sym.min() < 0 or sym.max() >= f.shape[-1]):
        raise InputError(f"categorical symbols must lie in [0, {f.shape[-1]})")
    return sym, f


def _freq_segment(sym: np.ndarray, f: np.ndarray, precision: int) -> tuple:
    weights = constriction_weights(f, precision)
    if f.ndim == 1:
        return (
            sym.astype(np.int32),
            constriction.stream.model.Categorical(weights, perfect=False),
            None,
        )
    return (sym.astype(np.int32), _FAMILY, weights)


def encode_with_frequencies(
    symbols: np.ndarray, freqs: np.ndarray, precision: int, *, coder: CoderName = "ans"
) -> bytes:
    """Code symbols in ``[0, K)``; ``freqs`` is one shared row ``(K,)`` or one row per symbol ``(N, K)``.

    Rows are integer frequencies ``>= 1`` summing to ``2^precision`` (e.g. from
    :func:`vid1d.entropy.cdf.probs_to_frequencies`).
    """
    coder = check_coder(coder)
    sym, f = _prepare_freqs(symbols, freqs, precision, None)
    return _write([_freq_segment(sym, f, precision)], coder)


def decode_with_frequencies(
    data: bytes,
    freqs: np.ndarray,
    precision: int,
    count: int | None = None,
    *,
    coder: CoderName = "ans",
) -> np.ndarray:
    """Inverse of :func:`encode_with_frequencies`; ``count`` is needed for a shared row."""
    coder = check_coder(coder)
    f = np.asarray(freqs)
    if count is None:
        if f.ndim != 2:
            raise InputError("decode_with_frequencies needs count= with a single shared row")
        count = f.shape[0]
    _, f = _prepare_freqs(None, f, precision, count)
    reader = _Reader(data, coder)
    _, model, params = _freq_segment(np.zeros(0, np.int64), f, precision)
    out = reader.read(model, count) if params is None else reader.read(model, params=params)
    reader.finish()
    return out.astype(np.int32)


def estimate_bits_with_frequencies(symbols: np.ndarray, freqs: np.ndarray, precision: int) -> float:
    """Ideal bits ``sum -log2(f[symbol] / 2^precision)`` of :func:`encode_with_frequencies`."""
    sym, f = _prepare_freqs(symbols, freqs, precision, None)
    chosen = f[sym] if f.ndim == 1 else f[np.arange(sym.size), sym]
    return float(sym.size * precision - np.log2(chosen).sum())
