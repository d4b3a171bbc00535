"""convert_weights: official-format checkpoints -> one safetensors file the metrics load."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from vid1d.errors import InputError
from vid1d.metrics import DISTS, LPIPS, convert_weights
from vid1d.metrics.weights import file_sha256


def torchvision_checkpoint(features: torch.nn.Module, path: Path) -> None:
    """A file laid out like torchvision's vgg16/alexnet checkpoints (features + classifier)."""
    sd = OrderedDict((f"features.{k}", v.clone()) for k, v in features.state_dict().items())
    sd["classifier.0.weight"] = torch.randn(8, 4)  # shapes irrelevant: dropped by the converter
    sd["classifier.0.bias"] = torch.randn(8)
    torch.save(sd, path)


class NotATensor:
    pass


@pytest.mark.parametrize("net", ["vgg", "alex"])
def test_lpips_round_trip(net, tmp_path):
    torch.manual_seed(3)
    src = LPIPS(net)
    backbone = tmp_path / ("vgg16-397923af.pth" if net == "vgg" else "alexnet-owt-7be5be79.pth")
    torchvision_checkpoint(src.features, backbone)
    head = tmp_path / f"{net}.pth"
    torch.save(OrderedDict((k, v) for k, v in src.state_dict().items() if k.startswith("lin")), head)

    out = convert_weights(f"lpips-{net}", backbone=backbone, head=head, out=tmp_path / "w.safetensors")
    with safe_open(str(out), framework="pt") as f:
        meta = f.metadata()
        assert "classifier.0.weight" not in f.keys()
    assert meta["net"] == net and meta["vid1d_format"] == "lpips"
    assert meta["source_head"] == f"{net}.pth sha256:{file_sha256(head)}"
    loaded = LPIPS.from_file(out)
    for k, v in src.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    assert torch.equal(loaded(x, y), src(x, y))


def test_dists_round_trip(tmp_path):
    torch.manual_seed(4)
    src = DISTS()
    backbone = tmp_path / "vgg16-397923af.pth"
    torchvision_checkpoint(src.features, backbone)
    head = tmp_path / "weights.pt"
    torch.save({"alpha": src.alpha.data.clone(), "beta": src.beta.data.clone()}, head)
    out = convert_weights("dists", backbone=backbone, head=head, out=tmp_path / "d.safetensors")
    loaded = DISTS.from_file(out)
    assert torch.equal(loaded.alpha, src.alpha) and torch.equal(loaded.beta, src.beta)
    x, y = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24)
    assert torch.equal(loaded(x, y), src(x, y))


def test_refusals(tmp_path):
    src = LPIPS("alex")
    backbone = tmp_path / "alexnet.pth"
    torchvision_checkpoint(src.features, backbone)
    head = tmp_path / "alex.pth"
    heads = {k: v for k, v in src.state_dict().items() if k.startswith("lin")}
    torch.save(heads, head)
    out = tmp_path / "out.safetensors"

    with pytest.raises(InputError, match="unknown kind"):
        convert_weights("lpips-squeeze", backbone=backbone, head=head, out=out)
    with pytest.raises(InputError, match="also an input"):
        convert_weights("lpips-alex", backbone=backbone, head=head, out=head)
    with pytest.raises(InputError, match="not found"):
        convert_weights("lpips-alex", backbone=tmp_path / "none.pth", head=head, out=out)
    # VGG heads with an AlexNet backbone: the names match, the shapes do not
    vgg_head = tmp_path / "vgg.pth"
    torch.save({k: v for k, v in LPIPS("vgg").state_dict().items() if k.startswith("lin")}, vgg_head)
    with pytest.raises(InputError, match="lin1.model.1.weight has shape"):
        convert_weights("lpips-alex", backbone=backbone, head=vgg_head, out=out)
    assert not out.exists()
    convert_weights("lpips-alex", backbone=backbone, head=head, out=out)  # the right pair works
    assert out.exists()


def test_refuses_unsafe_or_incomplete_files(tmp_path):
    src = LPIPS("alex")
    backbone = tmp_path / "alexnet.pth"
    torchvision_checkpoint(src.features, backbone)
    out = tmp_path / "out.safetensors"
    pickled = tmp_path / "evil.pth"
    torch.save({"lin0.model.1.weight": NotATensor()}, pickled)  # needs full unpickling
    with pytest.raises(InputError, match="weights_only=True"):
        convert_weights("lpips-alex", backbone=backbone, head=pickled, out=out)
    partial = tmp_path / "partial.pth"
    torch.save({k: v for k, v in src.state_dict().items() if k.startswith("lin")
                and k != "lin4.model.1.weight"}, partial)
    with pytest.raises(InputError, match="missing lin4"):
        convert_weights("lpips-alex", backbone=backbone, head=partial, out=out)
    not_dict = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], not_dict)
    with pytest.raises(InputError, match="not a state dict"):
        convert_weights("lpips-alex", backbone=backbone, head=not_dict, out=out)
    assert not out.exists()
