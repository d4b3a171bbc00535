"""The raw coder: exact use of the integer tables, round trips, escapes, corrupt data."""

from __future__ import annotations

import constriction
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vid1d.entropy.cdf import CdfTable, probs_to_frequencies
from vid1d.entropy.coder import (
    constriction_weights,
    decode,
    decode_with_frequencies,
    encode,
    encode_with_frequencies,
    estimate_bits,
    estimate_bits_with_frequencies,
)
from vid1d.errors import BitstreamError, InputError

INT32 = np.iinfo(np.int32)


def gaussian_like_table(num: int = 12, precision: int = 16) -> CdfTable:
    """Discretised Gaussians of growing scale, centred on 0, with ~1e-6 tail mass."""
    pmfs, offsets = [], []
    for i in range(num):
        scale = 0.2 * 1.6**i
        half = int(np.ceil(scale * 5))
        k = np.arange(-half, half + 1)
        p = np.exp(-0.5 * (k / scale) ** 2)
        pmfs.append(p / p.sum() * (1 - 1e-6))
        offsets.append(-half)
    return CdfTable.from_pmfs(pmfs, offsets, precision)


def sample(table: CdfTable, n: int, seed: int, spread: float = 1.0):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, table.num_dists, n).astype(np.int32)
    scale = 0.2 * 1.6 ** idx.astype(np.float64)
    sym = np.round(rng.normal(size=n) * scale * spread).astype(np.int32)
    return sym, idx


@pytest.mark.parametrize("coder", ["ans", "range"])
@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(0, 9), min_size=1, max_size=4),
    seed=st.integers(0, 2**31 - 1),
    spread=st.sampled_from([0.5, 1.0, 4.0]),
    precision=st.sampled_from([12, 16, 20]),
)
def test_round_trip_random_shapes(coder, shape, seed, spread, precision) -> None:
    table = gaussian_like_table(precision=precision)
    n = int(np.prod(shape))
    sym, idx = sample(table, n, seed, spread)
    sym, idx = sym.reshape(shape), idx.reshape(shape)
    data = encode(sym, idx, table, coder=coder)
    out = decode(data, idx, table, coder=coder)
    assert out.dtype == np.int32 and out.shape == tuple(shape)
    assert np.array_equal(out, sym)


@pytest.mark.parametrize("coder", ["ans", "range"])
def test_extreme_symbols_use_the_escape_path(coder) -> None:
    table = gaussian_like_table()
    extremes = np.array(
        [INT32.max, INT32.min, INT32.max - 1, INT32.min + 1, 0, 1, -1, 100, -100, 2**20, -(2**20)],
        dtype=np.int32,
    )
    rng = np.random.default_rng(3)
    sym = np.concatenate([extremes, rng.integers(INT32.min, INT32.max, 500, dtype=np.int32)])
    idx = rng.integers(0, table.num_dists, sym.size).astype(np.int32)
    data = encode(sym, idx, table, coder=coder)
    assert np.array_equal(decode(data, idx, table, coder=coder), sym)
    # and the estimate still matches the real size (escape bits are counted)
    assert abs(8 * len(data) - estimate_bits(sym, idx, table)) <= 160


def test_offsets_at_int32_limits_round_trip() -> None:
    table = CdfTable.from_pmfs(
        [[0.5, 0.5], [0.3, 0.7]], offsets=[INT32.min, INT32.max - 2], precision=16
    )
    sym = np.array([INT32.min, INT32.max, INT32.min + 1, INT32.max - 2, 0, INT32.max], np.int32)
    idx = np.array([0, 0, 0, 1, 1, 1], np.int32)
    assert np.array_equal(decode(encode(sym, idx, table), idx, table), sym)


def test_empty_input() -> None:
    table = gaussian_like_table()
    empty = np.zeros((0, 3), np.int32)
    data = encode(empty, empty, table)
    assert data == b""
    assert decode(data, empty, table).shape == (0, 3)


@pytest.mark.parametrize("coder", ["ans", "range"])
def test_real_bytes_match_estimate_on_many_symbols(coder) -> None:
    """Actual size within 0.5% + 8 bytes of the ideal size; ANS within a few words."""
    table = gaussian_like_table()
    sym, idx = sample(table, 200_000, seed=11)
    sym[:200] = 10_000  # some escapes too
    data = encode(sym, idx, table, coder=coder)
    est = estimate_bits(sym, idx, table)
    real = 8 * len(data)
    assert abs(real - est) <= 0.005 * est + 64
    if coder == "ans":
        # rANS with exact integer probabilities: the only cost is the final 64-bit state.
        assert -32 <= real - est <= 96


def _reference_rans(symbols, cdf, precision):
    """rANS as in constriction's ``AnsCoder`` (u64 state, u32 words, 24-bit probabilities)."""
    shift = 24 - precision
    state, bulk = 0, []
    for s in symbols[::-1]:
        prob, cum = int(cdf[s + 1] - cdf[s]) << shift, int(cdf[s]) << shift
        if (state >> 40) >= prob:
            bulk.append(state & 0xFFFFFFFF)
            state >>= 32
        state = ((state // prob) << 24) | (cum + state % prob)
    while state:
        bulk.append(state & 0xFFFFFFFF)
        state >>= 32
    return bulk


@pytest.mark.parametrize("precision", [8, 16, 24])
def test_constriction_uses_exactly_our_integer_frequencies(precision) -> None:
    """constriction's words equal a from-scratch rANS driven by our integer CDF."""
    rng = np.random.default_rng(precision)
    f = probs_to_frequencies(rng.dirichlet(np.full(40, 0.2)), precision)
    cdf = np.concatenate([[0], np.cumsum(f)])
    sym = rng.choice(40, size=3000, p=f / f.sum()).astype(np.int32)
    model = constriction.stream.model.Categorical(constriction_weights(f, precision), perfect=False)
    coder = constriction.stream.stack.AnsCoder()
    coder.encode_reverse(sym, model)
    assert coder.get_compressed().tolist() == _reference_rans(sym, cdf, precision)
    # per-symbol family path (lazy model) is the same code
    data = encode_with_frequencies(sym, np.broadcast_to(f, (sym.size, f.size)), precision)
    words = np.frombuffer(data, "<u4").tolist()
    assert words == _reference_rans(sym, cdf, precision)


@pytest.mark.parametrize("coder", ["ans", "range"])
def test_corrupt_data_never_crashes(coder) -> None:
    table = gaussian_like_table()
    sym, idx = sample(table, 2000, seed=5)
    data = encode(sym, idx, table, coder=coder)
    rng = np.random.default_rng(0)
    candidates = [data[: len(data) // 2], data[4:], b"\x00" * len(data), b"", data + b"\x01\0\0\0"]
    candidates += [rng.bytes(len(data)) for _ in range(20)]
    for _ in range(20):  # single bit flips
        b = bytearray(data)
        b[rng.integers(len(b))] ^= 1 << int(rng.integers(8))
        candidates.append(bytes(b))
    n_errors = 0
    for bad in candidates:
        try:
            out = decode(bad, idx, table, coder=coder)
        except BitstreamError:
            n_errors += 1
        else:
            assert out.shape == sym.shape and out.dtype == np.int32
    if coder == "ans":  # an rANS stream must be consumed exactly: most damage is caught
        assert n_errors >= len(candidates) // 2
    with pytest.raises(BitstreamError, match="32-bit words"):
        decode(data[:-1], idx, table, coder=coder)


def test_bad_arguments() -> None:
    table = gaussian_like_table()
    sym, idx = sample(table, 10, seed=0)
    with pytest.raises(InputError, match="indexes must lie"):
        encode(sym, idx + 100, table)
    with pytest.raises(InputError, match="shape"):
        encode(sym[:5], idx, table)
    with pytest.raises(InputError, match="integers"):
        encode(sym.astype(np.float32), idx, table)
    with pytest.raises(InputError, match="int32"):
        encode(sym.astype(np.int64) + 2**40, idx, table)
    with pytest.raises(InputError, match="unknown entropy coder"):
        encode(sym, idx, table, coder="huffman")
    with pytest.raises(InputError, match="bytes"):
        decode("not bytes", idx, table)


@pytest.mark.parametrize("coder", ["ans", "range"])
def test_per_symbol_frequencies_round_trip(coder) -> None:
    rng = np.random.default_rng(1)
    n, k = 3000, 37
    probs = rng.dirichlet(np.full(k, 0.5), size=n)
    freqs = probs_to_frequencies(probs, 16)
    sym = np.array([rng.choice(k, p=p) for p in probs[:200]] + list(rng.integers(0, k, n - 200)))
    data = encode_with_frequencies(sym, freqs, 16, coder=coder)
    assert np.array_equal(decode_with_frequencies(data, freqs, 16, coder=coder), sym)
    est = estimate_bits_with_frequencies(sym, freqs, 16)
    assert abs(8 * len(data) - est) <= 0.005 * est + 64
    # one shared row
    shared = freqs[0]
    data = encode_with_frequencies(sym, shared, 16, coder=coder)
    assert np.array_equal(decode_with_frequencies(data, shared, 16, n, coder=coder), sym)
    # memory layout must not matter (constriction itself ignores strides of 2-D params)
    fortran = np.asfortranarray(freqs)
    assert encode_with_frequencies(sym, fortran, 16, coder=coder) == encode_with_frequencies(
        sym, freqs, 16, coder=coder
    )
    with pytest.raises(InputError, match="lie in"):
        encode_with_frequencies(np.array([k]), shared, 16)
    with pytest.raises(InputError, match="sum to"):
        encode_with_frequencies(sym, freqs + 1, 16)
    with pytest.raises(InputError, match="count"):
        decode_with_frequencies(data, shared, 16, coder=coder)
