"""Invariants of the shared blocks: RoPE is relative, cached attention equals full."""

from __future__ import annotations

import pytest
import torch

from vid1d.nn import Attention, KVCache, TransformerBlock, apply_rope, rope_nd


@pytest.mark.parametrize("axes", [1, 2, 3])
def test_rope_scores_depend_only_on_relative_position(axes):
    torch.manual_seed(0)
    dim = 24
    q, k = torch.randn(dim), torch.randn(dim)
    shift = torch.tensor([3.0, -2.0, 5.0][:axes])
    p = torch.tensor([[1.0, 4.0, 2.0][:axes], [7.0, 0.0, 3.0][:axes]])
    cos, sin = rope_nd(p, dim)
    cos2, sin2 = rope_nd(p + shift, dim)
    s1 = apply_rope(q[None], cos[:1], sin[:1]) @ apply_rope(k[None], cos[1:], sin[1:]).T
    s2 = apply_rope(q[None], cos2[:1], sin2[:1]) @ apply_rope(k[None], cos2[1:], sin2[1:]).T
    torch.testing.assert_close(s1, s2, atol=1e-4, rtol=1e-4)
    # and it is not position-blind: a different relative offset changes the score
    cos3, sin3 = rope_nd(p * torch.tensor([2.0] * axes), dim)
    s3 = apply_rope(q[None], cos3[:1], sin3[:1]) @ apply_rope(k[None], cos3[1:], sin3[1:]).T
    assert not torch.allclose(s1, s3, atol=1e-3)


def test_rope_preserves_norm():
    x = torch.randn(5, 16)
    cos, sin = rope_nd(torch.arange(5.0)[:, None], 16)
    torch.testing.assert_close(apply_rope(x, cos, sin).norm(dim=-1), x.norm(dim=-1))


def test_incremental_attention_with_cache_equals_causal_attention():
    torch.manual_seed(0)
    attn = Attention(32, 4).eval()
    x = torch.randn(2, 7, 32)
    cos, sin = rope_nd(torch.arange(7.0)[:, None], 8)
    full = attn(x, rope=(cos, sin), is_causal=True)
    cache = KVCache()
    steps = [attn(x[:, i : i + 1], rope=(cos[i : i + 1], sin[i : i + 1]), cache=cache) for i in range(7)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)


def test_explicit_weights_path_matches_sdpa():
    torch.manual_seed(0)
    attn = Attention(16, 2)
    x = torch.randn(1, 5, 16)
    mask = torch.rand(5, 5) > 0.3
    mask.fill_diagonal_(True)
    torch.testing.assert_close(attn(x, mask=mask), attn(x, mask=mask, return_weights=True),
                               atol=1e-5, rtol=1e-5)
    assert attn.last_weights.shape == (1, 2, 5, 5)
    assert torch.all(attn.last_weights[0, :, ~mask] == 0)


def test_adaln_zero_block_starts_as_identity():
    block = TransformerBlock(16, 2, cond_dim=8)
    x, c = torch.randn(3, 4, 16), torch.randn(3, 8)
    torch.testing.assert_close(block(x, c), x)
