"""Fixed-point layers: exact integer primitives, closeness to the float layers, and
results that do not depend on how the matrix products are summed."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vid1d.entropy.detmath import det_sincos
from vid1d.nn import TransformerBlock, fixed, rope_nd
from vid1d.nn.fixed import (
    ONE,
    FixedBlock,
    FixedKVCache,
    FixedLayerNorm,
    FixedLinear,
    isqrt,
    reciprocal,
    rope_fixed,
    round_div,
    round_shift,
    to_fixed,
    to_float,
)


def _numpy_int_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Another machine: numpy's integer matmul (plain loops, its own summation order)."""
    return torch.from_numpy(np.matmul(a.long().numpy(), b.long().numpy())).double()


def test_integer_primitives_match_python_integers():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(-(2**40), 2**40, (2000,), generator=g)
    d = torch.randint(1, 2**20, (2000,), generator=g)
    for i in range(0, 2000, 97):
        xi, di = int(x[i]), int(d[i])
        assert int(round_shift(x[i : i + 1], 13)) == (xi + 4096) // 8192
        assert int(round_div(x[i : i + 1], d[i : i + 1])) == (2 * xi + di) // (2 * di)
        assert int(reciprocal(d[i : i + 1], 40)) == (1 << 40) // di
    v = torch.cat([torch.randint(0, 2**62, (3000,), generator=g), torch.arange(0, 300),
                   torch.tensor([2**62 - 1, (2**31 - 1) ** 2, (2**31 - 1) ** 2 - 1])])
    assert [int(s) for s in isqrt(v)] == [math.isqrt(int(t)) for t in v]


def test_det_sincos_is_accurate():
    x = np.linspace(-3000.0, 3000.0, 100_001)
    s, c = det_sincos(x)
    assert np.abs(s - np.sin(x)).max() < 1e-12 and np.abs(c - np.cos(x)).max() < 1e-12
    with pytest.raises(ValueError):
        det_sincos(2.0**20)


def test_linear_and_layernorm_track_the_float_layers():
    torch.manual_seed(0)
    lin = torch.nn.Linear(64, 48)
    ln = torch.nn.LayerNorm(48)
    with torch.no_grad():
        ln.weight.uniform_(0.5, 1.5)
        ln.bias.normal_(0, 0.2)
    x = torch.randn(5, 7, 64) * 2
    want = ln(lin(x))
    got = to_float(FixedLayerNorm.from_float(ln)(FixedLinear.from_float(lin)(to_fixed(x))))
    assert (got - want).abs().max() < 4e-3


def test_rope_tables_match_the_float_ones():
    coords = torch.tensor([[0.0, 0.0], [3.0, 5.0], [3.5, 3.5], [40.0, 71.0]])
    cos, sin = rope_nd(coords, 32)
    cos_i, sin_i = rope_fixed(coords, 32)
    assert (cos_i / 2**fixed.ROPE_BITS - cos).abs().max() < 1e-4
    assert (sin_i / 2**fixed.ROPE_BITS - sin).abs().max() < 1e-4


def _random_block(cond_dim: int | None, seed: int = 0) -> TransformerBlock:
    torch.manual_seed(seed)
    block = TransformerBlock(32, 2, 2.0, cond_dim=cond_dim).eval()
    if cond_dim is not None:  # adaLN-Zero starts as the identity: make it do something
        with torch.no_grad():
            block.ada[-1].weight.normal_(0, 0.1)
            block.ada[-1].bias.normal_(0, 0.1)
    return block


@pytest.mark.parametrize("cond_dim", [None, 16])
def test_block_tracks_the_float_block(cond_dim):
    block = _random_block(cond_dim)
    x = torch.randn(3, 20, 32)
    cond = torch.randn(1, 16)
    coords = torch.stack(torch.meshgrid(torch.arange(4.0), torch.arange(5.0), indexing="ij"),
                         dim=-1).reshape(20, 2)
    with torch.no_grad():
        want = block(x, cond.expand(3, -1) if cond_dim else None, rope=rope_nd(coords, 16))
    fb = FixedBlock(block)
    if cond_dim:
        fb.condition(to_fixed(cond))
    got = to_float(fb(to_fixed(x), rope=rope_fixed(coords, 16)))
    assert (got - want).abs().max() < 0.02
    assert (got - want).abs().mean() < 2e-3


def test_block_output_does_not_depend_on_the_summation_order(monkeypatch):
    """Every product in the integer layers is exact, so another summation order (here
    numpy's integer loops instead of float64 BLAS) gives the same integers, with the
    KV cache and long sequences included."""
    block = FixedBlock(_random_block(16))
    block.condition(to_fixed(torch.randn(1, 16)))
    prefix, steps = to_fixed(torch.randn(4, 300, 32) * 3), to_fixed(torch.randn(4, 5, 32))

    def run():
        cache = FixedKVCache()
        outs = [block(prefix, cache=cache)]
        outs += [block(steps[:, i : i + 1], cache=cache) for i in range(5)]
        return torch.cat(outs, dim=1)

    blas = run()
    monkeypatch.setattr(fixed, "float64_matmul", _numpy_int_matmul)
    assert torch.equal(run(), blas)
    monkeypatch.setattr(fixed, "float64_matmul",
                        lambda a, b: torch.matmul(a.flip(-1), b.flip(-2)))  # reversed order
    assert torch.equal(run(), blas)


def test_incremental_attention_equals_the_full_pass_and_blocks_do_not_matter():
    block = FixedBlock(_random_block(None, seed=1))
    x = to_fixed(torch.randn(2, 40, 32))
    q = to_fixed(torch.randn(2, 2, 40, 16))
    k, v = to_fixed(torch.randn(2, 2, 40, 16)), to_fixed(torch.randn(2, 2, 40, 16))
    whole = fixed.attention_fixed(q, k, v)  # all four (batch, head) groups in one block
    for size in (1, 200, 1000):  # a row per block; rows of one group; whole groups
        assert torch.equal(fixed.attention_fixed(q, k, v, block_elements=size), whole)
    full = block(x)
    # a prefix through the cache, then the rest: no mask, so each position sees all keys
    # only in the full pass; the last position sees all keys in both
    cache = FixedKVCache()
    block(x[:, :39], cache=cache)
    assert torch.equal(block(x[:, 39:], cache=cache), full[:, 39:])


def test_bounds_that_would_break_exactness_are_refused():
    with pytest.raises(ValueError, match="2\\^53"):
        FixedLinear(torch.full((1, 2**20), 0.9), None)


def test_attention_over_more_keys_than_one_exact_product_holds(monkeypatch):
    """Σ e v goes in key blocks (each exact in float64) summed in int64: any key count."""
    g = torch.Generator().manual_seed(3)
    q = torch.randint(-ONE, ONE, (1, 3, 8), generator=g)
    k = torch.randint(-ONE, ONE, (1, 50, 8), generator=g)
    v = torch.randint(-fixed.ACT_MAX, fixed.ACT_MAX, (1, 50, 8), generator=g)
    whole = fixed.attention_fixed(q, k, v)
    monkeypatch.setattr(fixed, "KEY_BLOCK", 7)
    assert torch.equal(fixed.attention_fixed(q, k, v), whole)


def test_activations_saturate_instead_of_overflowing():
    lin = torch.nn.Linear(4, 2)
    huge = torch.full((1, 4), 1e6)
    out = FixedLinear.from_float(lin)(to_fixed(huge))
    assert out.abs().max() <= fixed.ACT_MAX
    assert ONE == 2**fixed.FRAC


def test_paper_width_layers_are_within_the_exactness_bounds():
    """The `paper` preset's widths (dim 768, MLP 3072, 12 heads): every bound holds."""
    torch.manual_seed(0)
    block = TransformerBlock(768, 12, 4.0, cond_dim=128)
    with torch.no_grad():
        block.ada[-1].weight.normal_(0, 0.02)
    fb = FixedBlock(block)
    fb.condition(to_fixed(torch.randn(1, 128)))
    x = to_fixed(torch.randn(1, 6, 768))
    assert fb(x).shape == (1, 6, 768)
