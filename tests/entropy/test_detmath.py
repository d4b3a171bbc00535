"""Deterministic float64 math: accuracy against libm/scipy, and a cross-machine golden value."""

from __future__ import annotations

import hashlib

import numpy as np
import scipy.special

from vid1d.entropy.detmath import (
    det_erf,
    det_exp,
    det_normal_cdf,
    det_normal_quantile,
    det_softmax_weights,
)
from vid1d.entropy.gaussian import GaussianConditional, default_scale_table


def test_exp_matches_libm() -> None:
    x = np.linspace(-700, 700, 200_001)
    assert np.max(np.abs(det_exp(x) / np.exp(x) - 1)) < 1e-15
    assert det_exp(-800.0) == 0.0 and det_exp(800.0) == np.inf


def test_erf_and_normal_cdf_match_scipy() -> None:
    x = np.linspace(-10, 10, 100_001)
    assert np.max(np.abs(det_erf(x) - scipy.special.erf(x))) < 1e-14
    assert np.max(np.abs(det_normal_cdf(x) - scipy.special.ndtr(x))) < 1e-14
    assert abs(det_normal_quantile(5e-10) - scipy.special.ndtri(5e-10)) < 1e-6
    assert abs(det_normal_quantile(0.975) - 1.959963984540054) < 1e-9


def test_softmax_weights() -> None:
    logits = np.array([[0.0, 1.0, 2.0], [-1e3, 0.0, 1e3]])
    w = det_softmax_weights(logits)
    assert np.allclose(w[0] / w[0].sum(), scipy.special.softmax(logits[0]))
    assert w[1].tolist() == [0.0, 0.0, 1.0]


def test_default_scale_table_is_compressai_table() -> None:
    expected = np.exp(np.linspace(np.log(0.11), np.log(256), 64))
    assert np.allclose(default_scale_table(), expected, rtol=1e-6)


def test_gaussian_tables_golden_checksum() -> None:
    """The default Gaussian tables hash to the value computed when they were designed.

    They are built from exactly rounded float64 operations only, so every
    machine (any CPU, OS, numpy version) must reproduce them bit for bit; a
    different hash on some machine means a decoder there would not decode our
    bitstreams.
    """
    model = GaussianConditional()
    model.update()
    table = model.table
    digest = hashlib.sha256(
        table.cdfs.astype("<i4").tobytes()
        + table.lengths.astype("<i4").tobytes()
        + table.offsets.astype("<i4").tobytes()
    ).hexdigest()
    assert digest == GOLDEN_GAUSSIAN_TABLE_SHA256


# sha256 of the default tables (cdfs, lengths, offsets as little-endian int32), computed
# on the 2-core development machine (numpy 2.4.6) on 2026-11-22.
GOLDEN_GAUSSIAN_TABLE_SHA256 = "06e69f11c47a12baa3e2b0246fd68c6e8e9c5bd7a53f4b89c3df7fa447225d51"
