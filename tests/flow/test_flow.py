"""Rectified flow: path, target, timestep sampler and Euler sampler against closed forms."""

from __future__ import annotations

import pytest
import torch

from vid1d import flow


def test_path_endpoints_and_target_is_its_derivative():
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(4, 3, 5, generator=g), torch.randn(4, 3, 5, generator=g)
    assert torch.equal(flow.interpolate(x0, eps, torch.zeros(4)), x0)
    assert torch.equal(flow.interpolate(x0, eps, torch.ones(4)), eps)
    t, h = torch.full((4,), 0.3), 1e-3
    finite_diff = (flow.interpolate(x0, eps, t + h) - flow.interpolate(x0, eps, t - h)) / (2 * h)
    torch.testing.assert_close(finite_diff, flow.velocity_target(x0, eps), atol=1e-3, rtol=1e-3)
    # the clean estimate from the true velocity is exact at any t
    xt = flow.interpolate(x0, eps, t)
    torch.testing.assert_close(flow.predict_x0(xt, flow.velocity_target(x0, eps), t), x0)


@pytest.mark.parametrize("steps", [1, 4, 8, 25])
def test_euler_is_exact_on_the_straight_field_of_a_point(steps):
    """The flow towards a single data point x* is v(x, t) = (x − x*)/t: straight lines,
    which Euler integrates exactly from t = 1 with any number of steps."""
    x_star = torch.tensor([[1.5, -2.0, 0.25]], dtype=torch.float64)
    noise = torch.tensor([[0.3, 0.7, -1.1]], dtype=torch.float64)
    out = flow.euler_sample(lambda x, t: (x - x_star) / t[:, None], noise, steps)
    torch.testing.assert_close(out, x_star, atol=1e-12, rtol=0)


def test_euler_on_a_constant_field_and_step_callback():
    c = torch.tensor([[0.5, -1.0]])
    noise = torch.tensor([[2.0, 2.0]])
    seen = []
    out = flow.euler_sample(lambda x, t: c.expand_as(x), noise, 4,
                            on_step=lambda i, x: seen.append(i))
    torch.testing.assert_close(out, noise - c)  # ∫_1^0 c dt = −c
    assert seen == [0, 1, 2, 3]


def test_euler_matches_analytic_linear_ode_as_steps_grow():
    """dx/dt = a·x from t=1 to 0: x(0) = x(1)·exp(−a); Euler converges at first order."""
    a, x1 = 0.8, torch.tensor([[1.0]], dtype=torch.float64)
    exact = x1 * torch.exp(torch.tensor(-a, dtype=torch.float64))
    errs = [(flow.euler_sample(lambda x, t: a * x, x1, n) - exact).abs().item() for n in (10, 100)]
    assert errs[1] < errs[0] / 8  # first order: 10x steps -> ~10x smaller error
    assert errs[1] < 2e-3


def test_timestep_sampler_modes():
    g = torch.Generator().manual_seed(0)
    t = flow.sample_timesteps(20_000, generator=g, p_max=0.1)
    assert t.min() > 0 and t.max() <= 1
    share_one = (t == 1).float().mean().item()
    assert 0.09 < share_one < 0.11  # the thick tail at full noise
    rest = t[t < 1]
    assert abs(rest.median().item() - 0.5) < 0.02  # logit-normal(0, 1) is centred at 0.5
    assert torch.equal(flow.sample_timesteps(5, mode="one"), torch.ones(5))
    with pytest.raises(ValueError):
        flow.sample_timesteps(2, mode="cosine")


def test_flow_loss_is_zero_for_the_true_velocity():
    x0, eps = torch.randn(3, 4), torch.randn(3, 4)
    assert torch.all(flow.flow_loss(eps - x0, x0, eps) == 0)
    assert torch.all(flow.flow_loss(torch.zeros(3, 4), x0, eps) > 0)
    with pytest.raises(ValueError):
        flow.timestep_grid(0)
