"""FSQ: exact index round trips, codes on the level grid, a straight-through gradient."""

from __future__ import annotations

import math

import pytest
import torch

from vid1d.quant import FSQ

LEVELS = [(8, 8, 8, 5, 5, 5), (7, 4, 3, 2), (2,), (5, 6)]


@pytest.mark.parametrize("levels", LEVELS)
def test_index_round_trip_is_exact_over_all_codes(levels):
    fsq = FSQ(levels)
    assert fsq.codebook_size == math.prod(levels)
    indices = torch.arange(fsq.codebook_size)
    codes = fsq.indices_to_codes(indices)  # (K, d)
    assert codes.shape == (fsq.codebook_size, len(levels))
    assert torch.equal(fsq.codes_to_indices(codes), indices)
    assert torch.unique(codes, dim=0).shape[0] == fsq.codebook_size  # a bijection
    # codes -> indices -> codes is the identity as well, and quantizing a code returns it
    assert torch.equal(fsq.indices_to_codes(fsq.codes_to_indices(codes)), codes)


@pytest.mark.parametrize("levels", LEVELS)
def test_codes_lie_on_the_level_grid_and_every_level_is_reached(levels):
    fsq = FSQ(levels)
    torch.manual_seed(0)
    z = torch.randn(4096, len(levels)) * 3
    codes = fsq(z)
    half = torch.tensor(levels) // 2
    ints = codes * half
    assert torch.equal(ints, ints.round())
    for i, n in enumerate(levels):
        lo = -(n // 2)
        expected = torch.arange(lo, lo + n, dtype=torch.float32)  # even L: {−L/2, …, L/2 − 1}
        assert torch.equal(torch.unique(ints[:, i]), expected), (i, n)
    idx = fsq.codes_to_indices(codes)
    assert idx.min() >= 0 and idx.max() < fsq.codebook_size
    assert torch.equal(fsq(torch.zeros(3, len(levels))), torch.zeros(3, len(levels)))  # f(0) = 0


def test_straight_through_gradient_is_nonzero():
    fsq = FSQ((8, 5, 5, 5))
    z = torch.randn(64, 4, requires_grad=True)
    (fsq(z) * torch.randn(64, 4)).sum().backward()
    assert z.grad is not None and torch.all(z.grad != 0)


def test_quantizes_in_fp32_under_autocast_and_checks_its_inputs():
    fsq = FSQ((8, 5, 5))
    z = torch.randn(10, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        codes = fsq(z.bfloat16())
    assert codes.dtype == torch.float32
    assert torch.equal(codes, fsq(z.bfloat16().float()))
    with pytest.raises(ValueError):
        fsq(torch.randn(10, 4))
    for bad in ((), (1, 5), (8, 0)):
        with pytest.raises(ValueError):
            FSQ(bad)
    assert "_basis" not in fsq.state_dict()  # derived from the levels, never saved
