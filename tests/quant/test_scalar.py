"""Rounding, noise and straight-through quantizers, and the dispatcher."""

from __future__ import annotations

import pytest
import torch

from vid1d.errors import InputError
from vid1d.quant import (
    QUANT_MODES,
    add_uniform_noise,
    quantize,
    round_ste,
    round_with_means,
)


def test_round_with_and_without_means() -> None:
    x = torch.randn(1000) * 10
    m = torch.randn(1000)
    assert torch.equal(round_with_means(x), torch.round(x))
    assert torch.equal(round_with_means(x, m), torch.round(x - m) + m)
    assert torch.equal(quantize(x, "round", m), torch.round(x - m) + m)


@pytest.mark.parametrize("means", [None, "random"])
def test_ste_forward_rounds_and_gradient_is_identity(means) -> None:
    x = (torch.randn(64, 5) * 4).requires_grad_()
    m = torch.randn(64, 5) if means else None
    y = quantize(x, "ste", m)
    expected = torch.round(x.detach()) if m is None else torch.round(x.detach() - m) + m
    assert torch.allclose(y, expected, atol=1e-6)
    weights = torch.randn(64, 5)
    (y * weights).sum().backward()
    assert torch.equal(x.grad, weights)


def test_noise_is_uniform_within_half() -> None:
    x = torch.randn(200_000)
    g = torch.Generator().manual_seed(0)
    y = add_uniform_noise(x, generator=g)
    d = y - x
    assert d.abs().max() <= 0.5
    assert abs(d.mean().item()) < 5e-3
    assert abs(d.var().item() - 1 / 12) < 2e-3  # variance of U(-1/2, 1/2)
    # reproducible with the same generator, and shift invariant (means are ignored)
    y2 = quantize(x, "noise", torch.full_like(x, 0.3), generator=torch.Generator().manual_seed(0))
    assert torch.equal(y, y2)


def test_gradient_of_noise_is_identity() -> None:
    x = torch.randn(10, requires_grad=True)
    quantize(x, "noise").sum().backward()
    assert torch.equal(x.grad, torch.ones(10))


@pytest.mark.parametrize("mode", QUANT_MODES)
def test_fp32_under_autocast_and_for_bf16_inputs(mode) -> None:
    # bf16 has 8 mantissa bits: rounding must not happen in bf16.
    x = torch.tensor([300.7, -1000.2, 2.5, 0.49])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = quantize(x, mode, alpha=50.0)
    assert y.dtype == torch.float32
    if mode in ("round", "ste"):
        assert torch.equal(y, torch.round(x))
    assert quantize(x.bfloat16(), mode, alpha=50.0).dtype == torch.float32


def test_soft_mode_with_means_is_shifted_soft_round() -> None:
    from vid1d.quant import soft_round

    x, m = torch.randn(100) * 3, torch.randn(100)
    assert torch.allclose(quantize(x, "soft", m, alpha=5.0), soft_round(x - m, 5.0) + m)


def test_bad_mode_and_missing_alpha_raise() -> None:
    with pytest.raises(InputError, match="unknown quantization mode"):
        quantize(torch.zeros(3), "floor")
    with pytest.raises(InputError, match="alpha"):
        quantize(torch.zeros(3), "soft")


def test_round_ste_direct() -> None:
    x = torch.tensor([0.4, 0.6, -1.5], requires_grad=True)
    y = round_ste(x)
    assert torch.equal(y.detach(), torch.round(x.detach()))
