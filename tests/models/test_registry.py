"""Checkpoints are safetensors + JSON, verified by sha256; nothing else loads."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from vid1d.errors import InputError
from vid1d.models.checkpoint import load_checkpoint, save_checkpoint
from vid1d.models.registry import (
    build_model,
    check_device,
    list_models,
    load_model,
    register_model_type,
)
from vid1d.utils.config import config_from_dict, config_to_dict


@dataclass(frozen=True)
class TinyConfig:
    dim: int = 4
    depth: int = 2
    scales: tuple[float, ...] = (0.5, 1.0)


class Tiny(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(cfg.dim, cfg.dim) for _ in range(cfg.depth))


@register_model_type("test-tiny", TinyConfig)
def _build(cfg: TinyConfig) -> nn.Module:
    return Tiny(cfg)


@pytest.fixture()
def models_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VID1D_MODELS", str(tmp_path))
    return tmp_path


def export(models_dir, model_id: str, cfg: TinyConfig) -> nn.Module:
    torch.manual_seed(0)
    m = Tiny(cfg)
    save_checkpoint(models_dir / model_id, m.state_dict(), model_type="test-tiny",
                    config=config_to_dict(cfg), extra={"id": model_id})
    return m


def test_config_round_trip_and_unknown_keys():
    cfg = TinyConfig(dim=8, scales=(0.1, 0.2, 0.3))
    assert config_from_dict(TinyConfig, json.loads(json.dumps(config_to_dict(cfg)))) == cfg
    with pytest.raises(InputError, match="unknown config key"):
        config_from_dict(TinyConfig, {"dimm": 3})
    with pytest.raises(InputError, match="expected int"):
        config_from_dict(TinyConfig, {"dim": "3"})


def test_export_list_and_load_by_id(models_dir):
    cfg = TinyConfig(dim=6, depth=3)
    ref = export(models_dir, "tiny-a", cfg)
    assert "tiny-a" in list_models()
    model, ckpt = load_model("tiny-a")
    assert ckpt.meta["config"]["dim"] == 6 and len(model.layers) == 3
    for (k, v), (k2, v2) in zip(ref.state_dict().items(), model.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(v, v2)


def test_ids_with_dots_keep_their_whole_name(models_dir):
    """"gvc1d-q1.0" is an id, not a stem with suffix ".0": its files keep the full name."""
    export(models_dir, "tiny-q1.0-e", TinyConfig())
    assert sorted(p.name for p in models_dir.iterdir()) == ["tiny-q1.0-e.json", "tiny-q1.0-e.safetensors"]
    _, ckpt = load_model("tiny-q1.0-e")
    assert ckpt.meta["id"] == "tiny-q1.0-e"


def test_tampered_weights_are_refused(models_dir):
    export(models_dir, "tiny-b", TinyConfig())
    weights = models_dir / "tiny-b.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(InputError, match="sha256"):
        load_model("tiny-b")


def test_pickle_files_are_refused(tmp_path):
    bad = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(1)}, bad)
    with pytest.raises(InputError, match="pickle"):
        load_checkpoint(bad)


def test_a_failed_sidecar_leaves_no_orphan_weights(tmp_path):
    with pytest.raises(TypeError):  # a card value JSON cannot hold
        save_checkpoint(tmp_path / "m", {"w": torch.zeros(2)}, model_type="x", config={},
                        extra={"card": {"when": object()}})
    assert list(tmp_path.iterdir()) == []


def test_the_same_weights_save_to_the_same_bytes_in_every_process(tmp_path):
    """safetensors writes its metadata map in an order that changes between processes;
    with more than one key, exporting the same weights twice gave two sha256 values."""
    import subprocess
    import sys

    code = ("import sys, torch; from vid1d.models.checkpoint import save_checkpoint; "
            "save_checkpoint(sys.argv[1], {'w': torch.arange(6.0), 'b': torch.ones(2)}, "
            "model_type='x', config={})")
    shas = set()
    for i in range(3):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / f"m{i}")], check=True)
        shas.add(json.loads((tmp_path / f"m{i}.json").read_text())["sha256"])
    assert len(shas) == 1


def test_a_folder_name_is_not_a_checkpoint():
    for bad in (".", "..", "./"):
        with pytest.raises(InputError, match="not a checkpoint"):
            load_model(bad)


def test_unknown_id_and_type(models_dir):
    with pytest.raises(InputError, match="unknown model id"):
        load_model("no-such-model")
    with pytest.raises(InputError, match="unknown model type"):
        build_model("no-such-type", {})


def test_not_safetensors_is_an_input_error(models_dir):
    export(models_dir, "tiny-c", TinyConfig())
    (models_dir / "tiny-c.safetensors").write_bytes(b"garbage")
    meta = json.loads((models_dir / "tiny-c.json").read_text())
    from vid1d.models.checkpoint import sha256_file

    meta["sha256"] = sha256_file(models_dir / "tiny-c.safetensors")
    (models_dir / "tiny-c.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="safetensors"):
        load_model("tiny-c")


def test_weights_of_another_shape_are_refused(models_dir):
    export(models_dir, "tiny-d", TinyConfig(dim=4))
    meta = json.loads((models_dir / "tiny-d.json").read_text())
    meta["config"]["depth"] = 3
    (models_dir / "tiny-d.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="do not fit"):
        load_model("tiny-d")


def test_tensors_sharing_memory_are_saved_as_copies(tmp_path):
    shared = torch.arange(4.0)
    save_checkpoint(tmp_path / "s", {"a": shared, "b": shared, "c": shared[:2]},
                    model_type="test-tiny", config={})
    ckpt = load_checkpoint(tmp_path / "s")
    assert torch.equal(ckpt.state_dict["a"], shared) and torch.equal(ckpt.state_dict["b"], shared)
    assert torch.equal(ckpt.state_dict["c"], shared[:2])


def test_device_is_checked_before_loading(models_dir, monkeypatch):
    export(models_dir, "tiny-e", TinyConfig())
    assert check_device("cpu") == torch.device("cpu")
    for bad in ("foo", "cuda:x", "", "meta"):
        with pytest.raises(InputError, match="device"):
            check_device(bad)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for device in ("cuda", "cuda:0"):  # what encode / decode / detokenize --device pass on
        with pytest.raises(InputError, match="CUDA is not available"):
            load_model("tiny-e", device=device)
    with pytest.raises(InputError, match="invalid device 'foo'"):
        load_model("tiny-e", device="foo")
