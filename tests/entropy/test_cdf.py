"""Integer CDF construction: invariants, determinism, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vid1d.entropy.cdf import CdfTable, pmf_to_quantized_cdf, probs_to_frequencies
from vid1d.errors import InputError


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(2, 300),
    precision=st.integers(9, 24),
    seed=st.integers(0, 2**31 - 1),
    concentration=st.sampled_from([0.01, 0.3, 1.0, 10.0]),
)
def test_frequencies_invariants(k, precision, seed, concentration) -> None:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(k, concentration))
    f = probs_to_frequencies(p, precision)
    assert f.sum() == 1 << precision
    assert f.min() >= 1
    # within one unit of the "1 + floor(p * free)" allocation, i.e. close to p
    free = (1 << precision) - k
    assert np.all(np.abs(f - 1 - p * free) <= 1.0 + 1e-6)


def test_frequencies_batched_equals_rowwise_and_is_deterministic() -> None:
    rng = np.random.default_rng(0)
    p = rng.random((50, 17)) ** 4
    batched = probs_to_frequencies(p, 16)
    rows = np.stack([probs_to_frequencies(r, 16) for r in p])
    assert np.array_equal(batched, rows)
    assert np.array_equal(batched, probs_to_frequencies(p.copy(), 16))


def test_degenerate_probabilities() -> None:
    f = probs_to_frequencies(np.array([0.0, 0.0, 0.0]), 8)  # all zero -> uniform
    assert f.tolist() == [86, 85, 85]
    f = probs_to_frequencies(np.array([np.nan, 1.0, -3.0, np.inf]), 10)  # bad -> 0
    assert f.sum() == 1024 and f.min() == 1 and f[1] == 1024 - 3
    f = probs_to_frequencies(np.array([1.0, 0.0]), 1)  # smallest precision, still codable
    assert f.tolist() == [1, 1]


def test_frequency_errors() -> None:
    with pytest.raises(InputError):
        probs_to_frequencies(np.ones(1), 16)
    with pytest.raises(InputError):
        probs_to_frequencies(np.ones(300), 8)  # 300 symbols > 2^8
    with pytest.raises(InputError):
        probs_to_frequencies(np.ones(3), 25)


def test_pmf_to_quantized_cdf_has_escape_and_tail() -> None:
    pmf = np.array([0.2, 0.5, 0.2])
    cdf = pmf_to_quantized_cdf(pmf, 16)
    assert cdf.dtype == np.int32 and cdf.size == 5
    assert cdf[0] == 0 and cdf[-1] == 1 << 16
    assert (np.diff(cdf) >= 1).all()
    # escape carries 1 - sum(pmf) = 0.1 of the mass
    assert abs((cdf[-1] - cdf[-2]) / 65536 - 0.1) < 1e-3
    cdf2 = pmf_to_quantized_cdf(np.array([0.5, 0.5]), 16)
    assert cdf2[-1] - cdf2[-2] == 1  # no tail mass, but the escape stays codable


def test_table_from_pmfs_and_validation() -> None:
    table = CdfTable.from_pmfs([[0.5, 0.5], [0.1, 0.2, 0.3, 0.3]], offsets=[-1, 4], precision=12)
    assert table.cdfs.shape == (2, 6)
    assert table.lengths.tolist() == [3, 5]
    assert table.cdfs[0, 3:].tolist() == [4096, 4096, 4096]  # padding
    assert table.frequencies(1).sum() == 4096

    good = table.cdfs.copy()
    bad = good.copy()
    bad[1, 2] = bad[1, 1]  # zero frequency
    with pytest.raises(InputError, match="invalid CDF table"):
        CdfTable(bad, table.lengths, table.offsets, 12)
    bad = good.copy()
    bad[0, 3] = 17  # padding not 2^precision
    with pytest.raises(InputError, match="invalid CDF table"):
        CdfTable(bad, table.lengths, table.offsets, 12)
    with pytest.raises(InputError, match="invalid CDF table"):
        CdfTable(good, table.lengths, table.offsets, 13)  # rows end at 2^12
    with pytest.raises(InputError, match="lengths"):
        CdfTable(good, [1, 5], table.offsets, 12)
    with pytest.raises(InputError, match="shapes"):
        CdfTable(good, table.lengths, [0], 12)
