"""Schedule values, no-decay parameter groups, EMA arithmetic, sampler indices."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from vid1d.train.config import OptimConfig
from vid1d.train.ema import EMA
from vid1d.train.optim import build_optimizer, param_groups
from vid1d.train.sampler import StepBatchSampler
from vid1d.train.schedule import lr_at


def test_schedule_values_at_known_steps():
    cfg = OptimConfig(lr=1e-3, min_lr=1e-4, warmup_steps=10)
    total = 110
    assert lr_at(0, cfg, total) == pytest.approx(1e-4)  # first update: lr / warmup
    assert lr_at(4, cfg, total) == pytest.approx(5e-4)
    assert lr_at(9, cfg, total) == pytest.approx(1e-3)  # warmup reaches the peak
    assert lr_at(10, cfg, total) == pytest.approx(1e-3)  # cosine starts at the peak
    assert lr_at(60, cfg, total) == pytest.approx(1e-4 + 9e-4 * 0.5)  # half way: midpoint
    assert lr_at(35, cfg, total) == pytest.approx(1e-4 + 9e-4 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert lr_at(110, cfg, total) == pytest.approx(1e-4)
    assert lr_at(500, cfg, total) == pytest.approx(1e-4)  # held at min_lr past the end
    values = [lr_at(s, cfg, total) for s in range(10, 110)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))  # monotone decay
    no_warmup = OptimConfig(lr=2e-3, min_lr=0.0, warmup_steps=0)
    assert lr_at(0, no_warmup, 100) == pytest.approx(2e-3)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.proj = nn.Linear(4, 4)
        self.conv = nn.Conv2d(4, 4, 3)
        self.norm = nn.LayerNorm(4)
        self.pos_embed = nn.Parameter(torch.zeros(16, 4))
        self.latent_tokens = nn.Parameter(torch.zeros(32, 4))
        self.gate = nn.Parameter(torch.zeros(4, 4))  # a plain matrix: decayed
        self.special = nn.Parameter(torch.zeros(4, 4))

    def no_weight_decay(self):
        return {"special"}


def test_no_decay_on_biases_norms_embeddings_and_tokens():
    net = Net()
    decay, keep = param_groups(net, 0.1)
    names = {id(p): n for n, p in net.named_parameters()}
    assert decay["weight_decay"] == 0.1 and keep["weight_decay"] == 0.0
    assert {names[id(p)] for p in decay["params"]} == {"proj.weight", "conv.weight", "gate"}
    assert {names[id(p)] for p in keep["params"]} == {
        "emb.weight", "proj.bias", "conv.bias", "norm.weight", "norm.bias", "pos_embed",
        "latent_tokens", "special"}
    opt = build_optimizer(net, OptimConfig(betas=(0.8, 0.9), weight_decay=0.1))
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)


def test_ema_matches_the_formula_and_swaps_exactly():
    lin = nn.Linear(3, 2)
    lin.register_buffer("count", torch.tensor([7.0]))
    ema = EMA(lin, decay=0.9)
    expected = {n: p.detach().double().clone() for n, p in lin.named_parameters()}
    assert [ema.decay_at(t) for t in (0, 1, 10, 1000)] == pytest.approx([0.1, 2 / 11, 0.55, 0.9])
    g = torch.Generator().manual_seed(0)
    for step in range(5):
        with torch.no_grad():
            for p in lin.parameters():
                p.add_(torch.randn(p.shape, generator=g))
        ema.update(lin, step)
        d = min(0.9, (1 + step) / (10 + step))
        for n, p in lin.named_parameters():
            expected[n] = d * expected[n] + (1 - d) * p.detach().double()
    for n in expected:
        assert ema.shadow[n].dtype == torch.float32
        torch.testing.assert_close(ema.shadow[n].double(), expected[n], rtol=0, atol=1e-6)
    sd = ema.state_dict(lin)
    assert set(sd) == {"weight", "bias", "count"} and torch.equal(sd["count"], lin.count)
    before = {n: p.detach().clone() for n, p in lin.named_parameters()}
    with ema.swapped_in(lin):
        assert torch.equal(lin.weight, ema.shadow["weight"])
    for n, p in lin.named_parameters():
        assert torch.equal(p, before[n])


def test_sampler_global_indices():
    kw = dict(batch_size=8, world_size=2, accum_steps=2, start_step=0, stop_step=3,
              shuffle=False)
    r0 = list(StepBatchSampler(100, rank=0, **kw))
    r1 = list(StepBatchSampler(100, rank=1, **kw))
    # step s, rank r, j -> s*8 + r*4 + j, in 2 micro-batches of 2
    assert r0[:4] == [[0, 1], [2, 3], [8, 9], [10, 11]] and r1[:2] == [[4, 5], [6, 7]]
    one = list(StepBatchSampler(100, batch_size=8, stop_step=3, shuffle=False))
    assert sorted(sum(r0 + r1, [])) == sorted(sum(one, []))  # ranks partition the global batch
    resumed = list(StepBatchSampler(100, rank=1, **{**kw, "start_step": 1}))
    assert resumed == r1[2:]  # resuming needs only the step
    # finite datasets: each epoch is a permutation; unbounded ones use positions as indices
    shuffled = StepBatchSampler(10, batch_size=5, stop_step=4, seed=3)
    epochs = [sum(list(shuffled)[2 * e:2 * e + 2], []) for e in range(2)]
    assert sorted(epochs[0]) == list(range(10)) == sorted(epochs[1]) and epochs[0] != epochs[1]
    assert list(StepBatchSampler(None, batch_size=4, start_step=5, stop_step=6)) == [
        [20, 21, 22, 23]]
    # an offset shifts the whole stream: step s reads step s + offset's positions
    assert list(StepBatchSampler(None, batch_size=4, start_step=1, stop_step=3,
                                 offset_steps=4)) == [[20, 21, 22, 23], [24, 25, 26, 27]]
    assert list(StepBatchSampler(10, batch_size=5, stop_step=2, seed=3, offset_steps=2)) == \
        list(shuffled)[2:4]
    with pytest.raises(ValueError, match="offset_steps"):
        StepBatchSampler(None, batch_size=4, stop_step=1, offset_steps=-1)
