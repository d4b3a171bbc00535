"""DISTS: the official forward pass, L2 pooling, loading and refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from vid1d.errors import InputError
from vid1d.metrics import DISTS, load_dists, metric_versions, save_metric_weights
from vid1d.metrics.backbones import L2Pool
from vid1d.metrics.weights import file_sha256


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> tuple[Path, DISTS]:
    torch.manual_seed(0)
    model = DISTS()
    path = tmp_path_factory.mktemp("dists") / "dists.safetensors"
    save_metric_weights(model, path, {"vid1d_format": "dists"})
    return path, model


def official_dists(model: DISTS, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """DISTS_pytorch.DISTS.forward(x, y), with its stage layout and L2pooling filter."""
    a = np.hanning(5)[1:-1]
    g = torch.tensor(a[:, None] * a[None, :], dtype=torch.float32)
    g = g / g.sum()

    def l2pool(h):
        filt = g[None, None].repeat(h.shape[1], 1, 1, 1)
        return (F.conv2d(h**2, filt, stride=2, padding=1, groups=h.shape[1]) + 1e-12).sqrt()

    stages = [range(0, 4), range(5, 9), range(10, 16), range(17, 23), range(24, 30)]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, -1, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, -1, 1, 1)

    def forward_once(img):
        h = (img - mean) / std
        feats = [img]
        for s, idx in enumerate(stages):
            if s > 0:
                h = l2pool(h)
            for i in idx:
                h = model.features[i](h)
            feats.append(h)
        return feats

    chns = [3, 64, 128, 256, 512, 512]
    f0, f1 = forward_once(x), forward_once(y)
    dist1 = dist2 = 0
    c1 = c2 = 1e-6
    w_sum = model.alpha.sum() + model.beta.sum()
    alpha = torch.split(model.alpha / w_sum, chns, dim=1)
    beta = torch.split(model.beta / w_sum, chns, dim=1)
    for k in range(len(chns)):
        x_mean = f0[k].mean([2, 3], keepdim=True)
        y_mean = f1[k].mean([2, 3], keepdim=True)
        s1 = (2 * x_mean * y_mean + c1) / (x_mean**2 + y_mean**2 + c1)
        dist1 = dist1 + (alpha[k] * s1).sum(1, keepdim=True)
        x_var = ((f0[k] - x_mean) ** 2).mean([2, 3], keepdim=True)
        y_var = ((f1[k] - y_mean) ** 2).mean([2, 3], keepdim=True)
        xy_cov = (f0[k] * f1[k]).mean([2, 3], keepdim=True) - x_mean * y_mean
        s2 = (2 * xy_cov + c2) / (x_var + y_var + c2)
        dist2 = dist2 + (beta[k] * s2).sum(1, keepdim=True)
    return (1 - (dist1 + dist2)).view(-1)


def test_weight_names():
    keys = DISTS().expected_shapes()
    assert keys["alpha"] == keys["beta"] == (1, 1475, 1, 1)
    assert keys["features.28.weight"] == (512, 512, 3, 3)
    assert len(keys) == 2 + 26  # alpha, beta + 13 VGG16 convs (weight, bias)


def test_l2_pool():
    pool = L2Pool(2)
    x = torch.full((1, 2, 9, 8), 0.7)
    out = pool(x)
    assert out.shape == (1, 2, 5, 4)  # ceil(H / 2), ceil(W / 2)
    # away from the zero padding the normalized window returns the constant
    assert torch.allclose(out[..., 1:4, 1:], torch.full((1, 2, 3, 3), 0.7), atol=1e-6)


def test_loads_and_matches_the_official_forward(weights, sample_frames):
    path, model = weights
    loaded = DISTS.from_file(path)
    assert loaded.weights_sha256 == file_sha256(path)
    x, y = sample_frames[:2, :, 40:72, 60:100], sample_frames[2:4, :, 40:72, 60:100]
    d = loaded(x, y)
    assert d.shape == (2,)
    with torch.no_grad():
        ref = torch.cat([official_dists(model, x[i : i + 1], y[i : i + 1]) for i in range(2)])
    assert torch.allclose(d, ref, rtol=1e-4, atol=1e-6)


def test_identity_symmetry_and_positivity(weights):
    model = load_dists(weights[0])
    torch.manual_seed(2)
    x, y = torch.rand(2, 3, 24, 32), torch.rand(2, 3, 24, 32)
    assert model(x, x).abs().max() < 1e-5
    assert (model(x, y) > 0.01).all()
    assert torch.allclose(model(x, y), model(y, x), rtol=1e-6, atol=0)
    near = (x + 0.02 * torch.randn_like(x)).clamp(0, 1)
    assert (model(x, near) < model(x, y)).all()


def test_environment_variable_missing_and_wrong_files(weights, monkeypatch, tmp_path):
    path, _ = weights
    monkeypatch.delenv("VID1D_DISTS_WEIGHTS", raising=False)
    with pytest.raises(InputError) as e:
        DISTS.from_file()
    assert "VID1D_DISTS_WEIGHTS" in str(e.value) and "weights.pt" in str(e.value)
    monkeypatch.setenv("VID1D_DISTS_WEIGHTS", str(path))
    model = DISTS.from_file()
    assert model.version == f"vid1d DISTS sha256:{file_sha256(path)[:12]}"
    assert metric_versions(dists=model)["dists"] == model.version

    tensors = load_file(str(path))
    bad = tmp_path / "bad.safetensors"
    save_file({k: v for k, v in tensors.items() if k != "beta"}, str(bad))
    with pytest.raises(InputError, match="missing beta"):
        DISTS.from_file(bad)
    save_file({**tensors, "alpha": torch.zeros(1, 1474, 1, 1)}, str(bad))
    with pytest.raises(InputError, match="alpha has shape"):
        DISTS.from_file(bad)
    save_file(tensors, str(bad), metadata={"vid1d_format": "lpips"})
    with pytest.raises(InputError, match="not DISTS"):
        DISTS.from_file(bad)


def test_input_checks():
    model = DISTS()
    with pytest.raises(InputError, match="RGB"):
        model(torch.rand(1, 4, 32, 32), torch.rand(1, 4, 32, 32))
    with pytest.raises(InputError, match="shapes differ"):
        model(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 30))
