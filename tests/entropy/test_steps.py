"""Step-wise (autoregressive) coding: one stream, pulled step by step."""

from __future__ import annotations

import numpy as np
import pytest

from vid1d.entropy import CdfTable
from vid1d.entropy.steps import StepDecoder, StepEncoder
from vid1d.errors import BitstreamError


def table() -> CdfTable:
    rng = np.random.default_rng(0)
    pmfs = [rng.random(n) + 0.01 for n in (5, 9, 17)]
    return CdfTable.from_pmfs(pmfs, offsets=[-2, -4, -8], tail_masses=[1e-3] * 3)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("coder", ["ans", "range"])
def test_steps_round_trip_with_escapes(seed, coder):
    rng = np.random.default_rng(seed)
    tab = table()
    steps = []
    for _ in range(int(rng.integers(1, 8))):
        shape = tuple(int(v) for v in rng.integers(1, 5, size=2))
        sym = rng.integers(-6, 7, size=shape).astype(np.int32)
        sym.flat[0] = int(rng.choice([-(2**31), 2**31 - 1, 1000, 3]))  # escape path
        steps.append((sym, rng.integers(0, tab.num_dists, size=shape).astype(np.int32)))
    enc = StepEncoder(tab, coder)
    for s, i in steps:
        enc.push(s, i)
    data = enc.finish()
    dec = StepDecoder(data, tab, coder)
    for s, i in steps:
        assert np.array_equal(dec.pull(i), s)
    dec.finish()
    if coder == "ans":
        assert 0 <= 8 * len(data) - enc.estimated_bits <= 96


def test_stream_must_be_consumed_exactly():
    tab = table()
    enc = StepEncoder(tab)
    idx = np.ones((4, 4), dtype=np.int32)
    enc.push(np.zeros((4, 4), np.int32), idx)
    enc.push(np.ones((4, 4), np.int32), idx)
    dec = StepDecoder(enc.finish(), tab)
    dec.pull(idx)
    with pytest.raises(BitstreamError):
        dec.finish()
