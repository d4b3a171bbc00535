"""LPIPS: loading from one safetensors file, the official forward pass, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from vid1d.errors import InputError
from vid1d.metrics import LPIPS, load_lpips, metric_versions, save_metric_weights
from vid1d.metrics.weights import file_sha256

# torchvision's module indices of the convolutions in vgg16().features / alexnet().features
VGG16_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
ALEX_CONVS = {0: (64, 3, 11, 11), 3: (192, 64, 5, 5), 6: (384, 192, 3, 3), 8: (256, 384, 3, 3),
              10: (256, 256, 3, 3)}
# the official lpips package's slices of the backbone (pretrained_networks.py)
OFFICIAL_SLICES = {
    "vgg": [range(0, 4), range(4, 9), range(9, 16), range(16, 23), range(23, 30)],
    "alex": [range(0, 2), range(2, 5), range(5, 8), range(8, 10), range(10, 12)],
}


def random_lpips(net: str, seed: int = 0) -> LPIPS:
    torch.manual_seed(seed)
    model = LPIPS(net)
    for k in range(5):  # official heads are non-negative
        lin = getattr(model, f"lin{k}").model[1]
        lin.weight.data = lin.weight.data.abs()
    return model


@pytest.fixture(scope="module", params=["vgg", "alex"])
def weights(request, tmp_path_factory) -> tuple[str, Path, LPIPS]:
    net = request.param
    model = random_lpips(net)
    path = tmp_path_factory.mktemp("lpips") / f"lpips_{net}.safetensors"
    save_metric_weights(model, path, {"vid1d_format": "lpips", "net": net, "version": "0.1"})
    return net, path, model


def official_lpips(model: LPIPS, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """lpips.LPIPS(net, version='0.1').forward(x, y, normalize=True), image by image."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def feats(img):
        h = ((2 * img - 1) - shift) / scale
        out = []
        for sl in OFFICIAL_SLICES[model.net]:
            for i in sl:
                h = model.features[i](h)
            out.append(h)
        return out

    def normalize_tensor(t, eps=1e-10):
        return t / (torch.sqrt(torch.sum(t**2, dim=1, keepdim=True)) + eps)

    f0, f1 = feats(x), feats(y)
    val = 0
    for k in range(5):
        diff = (normalize_tensor(f0[k]) - normalize_tensor(f1[k])) ** 2
        w = getattr(model, f"lin{k}").model[1].weight
        val = val + torch.nn.functional.conv2d(diff, w).mean([2, 3], keepdim=True)
    return val.view(-1)


def test_weight_names_mirror_torchvision_and_lpips():
    keys = LPIPS("vgg").expected_shapes()
    convs = {f"features.{i}.{p}" for i in VGG16_CONVS for p in ("weight", "bias")}
    heads = {f"lin{k}.model.1.weight" for k in range(5)}
    assert set(keys) == convs | heads
    assert [keys[f"lin{k}.model.1.weight"][1] for k in range(5)] == [64, 128, 256, 512, 512]
    alex = LPIPS("alex").expected_shapes()
    for i, shape in ALEX_CONVS.items():
        assert alex[f"features.{i}.weight"] == shape
    assert [alex[f"lin{k}.model.1.weight"][1] for k in range(5)] == [64, 192, 384, 256, 256]


def test_loads_and_matches_the_official_forward(weights, sample_frames):
    net, path, model = weights
    loaded = LPIPS.from_file(path)
    assert loaded.net == net
    assert loaded.weights_sha256 == file_sha256(path)
    x, y = sample_frames[:3, :, 40:80, 60:108], sample_frames[1:4, :, 40:80, 60:108]
    d = loaded(x, y)
    assert d.shape == (3,)
    with torch.no_grad():
        ref = torch.cat([official_lpips(model, x[i : i + 1], y[i : i + 1]) for i in range(3)])
    assert torch.allclose(d, ref, rtol=1e-4, atol=1e-6)


def test_identity_symmetry_and_positivity(weights):
    _, path, _ = weights
    model = load_lpips(path)
    torch.manual_seed(1)
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    assert torch.equal(model(x, x), torch.zeros(2))
    assert (model(x, y) > 0).all()
    assert torch.allclose(model(x, y), model(y, x), rtol=1e-6, atol=0)
    # a small perturbation is closer than an unrelated image
    near = (x + 0.02 * torch.randn_like(x)).clamp(0, 1)
    assert (model(x, near) < model(x, y)).all()


def test_environment_variable_and_version(weights, monkeypatch):
    net, path, _ = weights
    monkeypatch.setenv("VID1D_LPIPS_WEIGHTS", str(path))
    model = LPIPS.from_file()
    assert model.net == net
    assert model.version == f"vid1d LPIPS-{net} v0.1 sha256:{file_sha256(path)[:12]}"
    assert metric_versions(lpips=model)["lpips"] == model.version
    with pytest.raises(InputError, match="not 'vgg'" if net == "alex" else "not 'alex'"):
        LPIPS.from_file(path, net="vgg" if net == "alex" else "alex")


def test_missing_weights_explain_how_to_supply_them(monkeypatch, tmp_path):
    monkeypatch.delenv("VID1D_LPIPS_WEIGHTS", raising=False)
    with pytest.raises(InputError) as e:
        LPIPS.from_file()
    msg = str(e.value)
    assert "VID1D_LPIPS_WEIGHTS" in msg and "convert_weights" in msg and "vgg16-397923af.pth" in msg
    with pytest.raises(InputError, match="not found"):
        LPIPS.from_file(tmp_path / "nope.safetensors")
    monkeypatch.setenv("VID1D_LPIPS_WEIGHTS", str(tmp_path / "nope.safetensors"))
    with pytest.raises(InputError, match=r"not found.*\$VID1D_LPIPS_WEIGHTS"):
        LPIPS.from_file()


def test_wrong_files_are_refused(weights, tmp_path):
    net, path, _ = weights
    tensors = load_file(str(path))
    meta = {"vid1d_format": "lpips", "net": net}

    def attempt(t, match, metadata=meta):
        bad = tmp_path / "bad.safetensors"
        save_file(t, str(bad), metadata=metadata)
        with pytest.raises(InputError, match=match):
            LPIPS.from_file(bad)

    attempt({k: v for k, v in tensors.items() if k != "lin2.model.1.weight"}, "missing lin2")
    attempt({**tensors, "lin5.model.1.weight": torch.zeros(1, 3, 1, 1)}, "unexpected lin5")
    attempt({**tensors, "lin0.model.1.weight": torch.zeros(1, 65, 1, 1)}, "shape")
    attempt({**tensors, "lin0.model.1.weight": torch.full((1, 64, 1, 1), float("nan"))}, "finite")
    attempt(tensors, "not LPIPS", metadata={"vid1d_format": "dists"})
    attempt({"alpha": torch.zeros(3)}, "cannot tell the backbone", metadata={})
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match="not a readable safetensors"):
        LPIPS.from_file(garbage)


def test_input_checks_and_gradients():
    model = random_lpips("alex")
    with pytest.raises(InputError, match="at least 31"):
        model(torch.rand(1, 3, 30, 64), torch.rand(1, 3, 30, 64))
    with pytest.raises(InputError, match="RGB"):
        model(torch.rand(1, 1, 64, 64), torch.rand(1, 1, 64, 64))
    with pytest.raises(InputError, match="net must be"):
        LPIPS("squeeze")
    # usable as a training loss: differentiable w.r.t. the input, weights frozen
    x = torch.rand(1, 3, 40, 40, requires_grad=True)
    model(x, torch.rand(1, 3, 40, 40)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in model.parameters())
