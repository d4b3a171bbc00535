"""Soft rounding (Agustsson & Theis 2020): limits, inverse, fixed points; Kumaraswamy noise."""

from __future__ import annotations

import pytest
import torch

from vid1d.quant import kumaraswamy_noise, noisy_soft_round, soft_round, soft_round_inverse


def _grid() -> torch.Tensor:
    return torch.linspace(-7.3, 7.3, 2001)


@pytest.mark.parametrize("alpha", [1e-6, 1e-3])
def test_small_alpha_is_identity(alpha) -> None:
    x = _grid()
    assert torch.allclose(soft_round(x, alpha), x, atol=1e-4)
    assert torch.allclose(soft_round_inverse(x, alpha), x, atol=1e-4)


def test_large_alpha_is_rounding() -> None:
    x = _grid()
    frac = x - torch.floor(x)
    away_from_half = (frac - 0.5).abs() > 0.02  # tanh(alpha r) saturates for |r| >> 1/alpha
    y = soft_round(x, 1000.0)
    assert torch.allclose(y[away_from_half], torch.round(x)[away_from_half], atol=1e-4)


def test_integers_and_half_integers_are_fixed_points() -> None:
    k = torch.arange(-5, 6).float()
    for alpha in (0.5, 3.0, 20.0):
        assert torch.allclose(soft_round(k, alpha), k, atol=1e-5)
        assert torch.allclose(soft_round(k + 0.5, alpha), k + 0.5, atol=1e-5)


@pytest.mark.parametrize("alpha", [0.3, 1.0, 4.0, 9.0])
def test_inverse(alpha) -> None:
    x = _grid()
    y = soft_round(x, alpha)
    assert torch.allclose(soft_round_inverse(y, alpha), x, atol=2e-3)
    assert (torch.diff(y) >= 0).all()  # monotone, hence invertible


def test_gradients_are_finite_and_alpha_tensor() -> None:
    x = _grid().requires_grad_()
    alpha = torch.tensor(7.0, requires_grad=True)
    soft_round(x, alpha).sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(alpha.grad)


def test_noisy_soft_round() -> None:
    x = _grid()
    noise = torch.zeros_like(x)
    assert torch.allclose(noisy_soft_round(x, 3.0, noise), soft_round(soft_round(x, 3.0), 3.0))
    y = noisy_soft_round(x, 2.0)
    assert (y - x).abs().max() <= 1.0 + 1e-5


def test_kumaraswamy_noise() -> None:
    g = torch.Generator().manual_seed(0)
    u = kumaraswamy_noise((100_000,), 1.0, generator=g)  # a = 1 is uniform
    assert u.min() >= -0.5 and u.max() <= 0.5
    assert abs(u.var().item() - 1 / 12) < 2e-3
    peaked = kumaraswamy_noise((100_000,), 2.0, generator=g)
    assert peaked.abs().max() <= 0.5
    assert (peaked.abs() < 0.25).float().mean() > 0.6  # uniform would give 0.5
    with pytest.raises(ValueError):
        kumaraswamy_noise((3,), 0.5)
