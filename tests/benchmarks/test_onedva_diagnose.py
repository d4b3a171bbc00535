"""benchmarks/onedva_diagnose.py part 3 (sampling spread) on a decoder whose draws are
known: the conditional mean plus seed noise of a set size."""

from __future__ import annotations

import torch


class _NoisyDecoder:
    """decode() = a fixed 'conditional mean' + N(0, sigma²) noise drawn from the seed."""

    def __init__(self, mean: torch.Tensor, sigma: float):
        self.mean, self.sigma = mean, sigma

    def decode(self, lat, steps: int, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return (self.mean + self.sigma * torch.randn(self.mean.shape, generator=g))[None]


def test_sampling_spread_separates_the_draws_scatter_from_the_mean_error(load_benchmark):
    diag = load_benchmark("onedva_diagnose")
    torch.manual_seed(0)
    x = torch.rand(3, 4, 32, 32) * 0.5 + 0.25
    mean = x + 0.05 * torch.randn_like(x)  # the one-step prediction: error variance 0.0025
    sigma = 0.05  # draws scatter as much as the mean is off
    r = diag.sampling_spread(_NoisyDecoder(mean, sigma), None, x, mean, steps=8, k=16)
    one_step = diag.clip_psnr(mean, x)
    # one draw carries the mean's error plus its own scatter: ~3 dB below the one-step decode
    assert 2.0 < one_step - r["spread_draw"] < 4.0
    # the average of 16 draws keeps 1/16 of the scatter: within ~0.5 dB of the one-step decode
    assert one_step - r["spread_draw_average"] < 0.5
    assert r["spread_draw_average"] > r["spread_draw"] + 2.0
    # the unbiased spread estimate recovers sigma² and the average sits near the mean
    assert abs(r["_spread"] / sigma**2 - 1) < 0.05
    assert r["spread_average_vs_one_step"] > 30.0


def test_attention_shares_reads_mass_breadth_and_position_specificity(load_benchmark):
    diag = load_benchmark("onedva_diagnose")
    n, s, o = 6, 2, 4  # noisy, structural, 1D keys
    N = n + s + o
    w = torch.zeros(1, 2, N, N)
    # head 0: every noisy query reads all 1D keys equally -> one blend for every patch
    w[0, 0, :n, n + s:] = 1 / o
    # head 1: noisy query i reads only structural key i % 2 -> position-specific, one key each
    for i in range(n):
        w[0, 1, i, n + i % 2] = 1.0
    w[0, :, n:] = 1 / N  # latent queries are not counted
    r = diag.attention_shares(w, n, s)
    assert abs(r["oned"] - 0.5) < 1e-9 and abs(r["struct"] - 0.5) < 1e-9 and r["noisy"] == 0
    assert abs(r["latent_keys_read"] - (o + 1) / 2) < 1e-9  # 4 keys (head 0) and 1 key (head 1)
    assert abs(r["position_tv"] - 0.25) < 1e-9  # head 0: 0; head 1: TV(one-hot, 50/50) = 0.5
    assert r["latent_keys"] == s + o and abs(sum(r["uniform"]) - 1) < 1e-9
